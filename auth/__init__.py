"""Who is calling: principals, bearer-token validation, the development issuer, scopes."""
