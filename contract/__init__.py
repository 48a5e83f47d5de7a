"""The bottom layer: the names every other layer shares with clients (error codes, scopes).

It imports nothing of ours, so ``datasources``, ``auth``, ``resolvers`` and ``schema`` can raise
contract errors and name scopes without depending on the web stack above them.
"""
