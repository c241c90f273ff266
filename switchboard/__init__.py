"""Switchboard's developer tooling: the template reader, the local stack and the `switchboard` CLI.

Not part of the Lambda layer (that is ``shared``); nothing here runs in AWS.
"""
