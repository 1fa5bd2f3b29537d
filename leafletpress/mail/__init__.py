"""Stage 6, email: a finished day's leaflets to their patients.

Takes a batch folder (its manifest and PDFs) and the list it was made from; gives messages in
an outbox (dry run) or at the SMTP server (``sending``), built from templates without medical
details (``messages``), sent over STARTTLS or TLS (``smtp``), recorded in the SQLite send log
(``sendlog``), with settings from ``config/email.yaml`` (``config``).

Guarantees: a message the server accepted is never sent twice; no address or name in what
it prints or logs (they are only in the list, the outbox messages and the send log).
"""
