-- A focal point's phone, sealed, with a blind index so an incoming SMS finds its sender.
ALTER TABLE users ADD COLUMN phone_sealed TEXT;
ALTER TABLE users ADD COLUMN phone_index TEXT;
CREATE UNIQUE INDEX users_phone_index ON users(phone_index);
