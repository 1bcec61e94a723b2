"""Accounts: users, roles, sign-in. (Sign-up, OTP and staff TOTP build on this.)"""
