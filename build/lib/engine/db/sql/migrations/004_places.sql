-- Places: the country, region and city of a photo's GPS position, found offline (reverse
-- geocoding with a packaged GeoNames extract) when the photo is indexed, and for photos indexed
-- before this migration by the next indexing run (the backfill picks every row with GPS and
-- place_geocoded = FALSE). A new position (a changed file) clears the place so it is looked up again.
ALTER TABLE photos ADD COLUMN IF NOT EXISTS place_country TEXT;
ALTER TABLE photos ADD COLUMN IF NOT EXISTS place_country_code TEXT;
ALTER TABLE photos ADD COLUMN IF NOT EXISTS place_state TEXT;
ALTER TABLE photos ADD COLUMN IF NOT EXISTS place_city TEXT;
ALTER TABLE photos ADD COLUMN IF NOT EXISTS place_geocoded BOOLEAN NOT NULL DEFAULT FALSE;
CREATE INDEX IF NOT EXISTS photos_place_pending_idx ON photos (id)
    WHERE NOT place_geocoded AND latitude IS NOT NULL;
CREATE INDEX IF NOT EXISTS photos_place_country_idx ON photos (lower(place_country));
CREATE INDEX IF NOT EXISTS photos_place_city_idx ON photos (lower(place_city));
CREATE INDEX IF NOT EXISTS photos_taken_at_idx ON photos (taken_at);

CREATE OR REPLACE FUNCTION photos_clear_place() RETURNS trigger AS $$
BEGIN
    IF NEW.latitude IS DISTINCT FROM OLD.latitude OR NEW.longitude IS DISTINCT FROM OLD.longitude THEN
        NEW.place_country := NULL;
        NEW.place_country_code := NULL;
        NEW.place_state := NULL;
        NEW.place_city := NULL;
        NEW.place_geocoded := FALSE;
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

DROP TRIGGER IF EXISTS photos_clear_place_trg ON photos;
CREATE TRIGGER photos_clear_place_trg BEFORE UPDATE OF latitude, longitude ON photos
    FOR EACH ROW EXECUTE FUNCTION photos_clear_place();
