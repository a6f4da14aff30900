-- One more wrong password; from the threshold on, the account waits base_seconds, doubling with
-- every further failure up to max_seconds (a guesser slows to a crawl, the owner waits minutes).
UPDATE users
SET failed_logins = failed_logins + 1,
    locked_until = CASE
        WHEN failed_logins + 1 >= :threshold
        THEN now() + make_interval(secs => LEAST(:max_seconds,
                                                 :base_seconds * power(2, failed_logins + 1 - :threshold)))
        ELSE locked_until
    END
WHERE id = :user_id
