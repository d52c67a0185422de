-- A person's other names: diminutives and full names ("Саша" for Александр), nicknames, the name
-- in another script ("Sasha"). A name in a search, the assistant or the bot finds the person by
-- the name or any alias, in any case form ("Сашей", engine/search/names.py).
ALTER TABLE persons ADD COLUMN IF NOT EXISTS aliases TEXT[] NOT NULL DEFAULT '{}';
