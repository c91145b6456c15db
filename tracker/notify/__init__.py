"""Push notifications: which events a change is (events.py), the text of their
messages (messages.py), and the targets they go to, through Apprise (targets.py). No
database here: tracker/service/notify.py stores and sends."""
