-- gatehouse schema, version 4: mail requests. A row with `request` set is not a message yet but
-- what the outbox worker is to send (confirm, reset, registered) to `recipient`, if the account
-- qualifies: requests look the same whatever the address, so the request path does the same
-- work for every address and leaks nothing through its timing.
ALTER TABLE mail_outbox ADD COLUMN request text;
