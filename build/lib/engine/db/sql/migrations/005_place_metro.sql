-- Places, part two: the big city a photo was taken in or near (`place_metro`). The nearest
-- GeoNames locality of a photo at the Eiffel Tower is Vanves and at the Sydney Opera House
-- The Rocks; people ask for "Paris" and "Sydney". Every photo with GPS is looked up again by
-- the next indexing run's backfill to fill the new column.
ALTER TABLE photos ADD COLUMN IF NOT EXISTS place_metro TEXT;
CREATE INDEX IF NOT EXISTS photos_place_metro_idx ON photos (lower(place_metro));
UPDATE photos SET place_geocoded = FALSE WHERE place_geocoded AND latitude IS NOT NULL;

CREATE OR REPLACE FUNCTION photos_clear_place() RETURNS trigger AS $$
BEGIN
    IF NEW.latitude IS DISTINCT FROM OLD.latitude OR NEW.longitude IS DISTINCT FROM OLD.longitude THEN
        NEW.place_country := NULL;
        NEW.place_country_code := NULL;
        NEW.place_state := NULL;
        NEW.place_city := NULL;
        NEW.place_metro := NULL;
        NEW.place_geocoded := FALSE;
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
