"""The daily summary email: what it says (content), how it looks (render, charts), how it
goes out (send), and once a day exactly (schedule)."""
