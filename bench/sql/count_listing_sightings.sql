SELECT count(*) FROM listing_sightings;
