"""Notifications: forwarding completion events to webhooks and Logic Apps.

- :mod:`~notifications.triggers`: the subscriptions API, the notifier (Event
  Grid) and the delivery worker (queue), thin.
- :mod:`~notifications.subscriptions`: registering, rotating and removing
  webhook subscriptions; :mod:`~notifications.fanout`: one delivery job per
  matching target; :mod:`~notifications.delivery`: running a job (sign, send,
  retry, dead-letter); :mod:`~notifications.health`: disabling endpoints that
  keep failing; :mod:`~notifications.replay`: redelivery, attempts and dead letters.
- :mod:`~notifications.records` and :mod:`~notifications.repository`: what is
  stored and how; :mod:`~notifications.settings`, :mod:`~notifications.runtime`.

Importing the package is cheap; the services are built on first use
(:func:`notifications.runtime.notifications`).
"""
