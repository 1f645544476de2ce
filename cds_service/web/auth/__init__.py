"""CDS Hooks JWT verification (auth) and the trusted issuers' keys (jwks, trust/)."""
