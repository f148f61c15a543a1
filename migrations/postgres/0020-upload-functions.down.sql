DROP FUNCTION confirm_upload(text, text, bigint, text, timestamptz, boolean);
DROP FUNCTION reserve_upload(text, text, text, text, text, bigint, timestamptz, text, bigint, boolean);
