"""Notifications: forwarding completion events to webhooks and Logic Apps."""
