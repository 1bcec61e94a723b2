"""Notifications: in-app, email, SMS, web push."""
