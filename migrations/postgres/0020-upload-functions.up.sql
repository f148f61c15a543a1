-- An upload reserves its bytes and is confirmed with one statement each: these functions run
-- the statements the store ran one round trip at a time. Every upload and confirm of a user
-- locks that user's quota row, and a lock held across round trips to the server held up
-- every other upload of the user for as long; here the row is locked only while the
-- statements run. Both take their locks in the order every upload and deletion takes them:
-- the document (or, for a new document, the user row's key, through its foreign key), then
-- the quota row. A refusal raises and so changes nothing:
--   DV001  over quota: the quota row is read after the refusal
--   DV002  the same bytes as another of the user's documents: DETAIL is that document's id

-- reserve_upload inserts the pending document and reserves its bytes with one conditional
-- UPDATE (see store.createPending). Its commit does not wait for the disk: a crash forgets
-- a reservation whose client never got its upload URL, or one whose PUT then answers 410.
CREATE FUNCTION reserve_upload(p_id text, p_user text, p_filename text, p_content_type text, p_object_key text,
	p_size bigint, p_now timestamptz, p_name_key text, p_allowance bigint, p_fit boolean) RETURNS void
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
	PERFORM set_config('synchronous_commit', 'off', true);
	INSERT INTO documents (id, user_id, filename, content_type, object_key, size_bytes, status, created_at, name_key)
		VALUES (p_id, p_user, p_filename, p_content_type, p_object_key, p_size, 'pending', p_now, p_name_key);
	-- The limit is subtracted, not added: limit + allowance overflows a BIGINT for a limit
	-- near its maximum, while the byte counts on the left are real sizes.
	UPDATE quotas SET pending_bytes = pending_bytes + p_size, document_count = document_count + 1
		WHERE user_id = p_user
		AND used_bytes + pending_bytes + p_size - limit_bytes <= CASE WHEN p_allowance <= 0 THEN limit_bytes ELSE p_allowance END
		AND (NOT p_fit OR used_bytes + p_size <= limit_bytes);
	IF NOT FOUND THEN
		RAISE EXCEPTION 'quota exceeded' USING ERRCODE = 'DV001';
	END IF;
END
$$;

-- confirm_upload moves the user's pending document p_id to uploaded and charges p_size to
-- the quota with one conditional UPDATE, which also gives back the bytes the upload reserved
-- (see store.confirmUpload). It returns the confirmed row, or no row when the document is
-- not the user's or no longer pending. p_sum is the SHA-256 of the bytes (NULL if unknown;
-- one recorded while the bytes streamed wins).
CREATE FUNCTION confirm_upload(p_id text, p_user text, p_size bigint, p_sum text, p_now timestamptz,
	p_refuse_duplicates boolean) RETURNS SETOF documents
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
	reserved bigint;
	doc documents;
	existing text;
BEGIN
	-- A pending document's declared size does not change: read without a lock. The UPDATE
	-- below finds the row still pending or does nothing.
	SELECT size_bytes INTO reserved FROM documents WHERE id = p_id AND user_id = p_user AND status = 'pending';
	IF NOT FOUND THEN
		RETURN;
	END IF;
	-- The document is written before the quota row is locked: that row, which every upload
	-- and confirm of the user waits for, stays locked for the two statements after this one
	-- and the commit only.
	UPDATE documents SET status = 'uploaded', size_bytes = p_size, uploaded_at = p_now, next_attempt_at = p_now,
		sha256 = COALESCE(sha256, p_sum), claimed_until = NULL
		WHERE id = p_id AND user_id = p_user AND status = 'pending' RETURNING * INTO doc;
	IF NOT FOUND THEN
		RETURN; -- confirmed meanwhile by another request
	END IF;
	UPDATE quotas SET used_bytes = used_bytes + p_size, pending_bytes = pending_bytes - reserved
		WHERE user_id = p_user AND used_bytes + p_size <= limit_bytes;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'quota exceeded' USING ERRCODE = 'DV001';
	END IF;
	-- Checked under the quota row's lock, in a statement of its own: a parallel confirm of
	-- the same bytes has committed by now, and this statement sees it.
	IF p_refuse_duplicates AND doc.sha256 IS NOT NULL THEN
		SELECT id INTO existing FROM documents WHERE user_id = p_user AND sha256 = doc.sha256 AND id <> p_id
			AND status <> 'pending' ORDER BY created_at, id LIMIT 1;
		IF FOUND THEN
			RAISE EXCEPTION 'duplicate document' USING ERRCODE = 'DV002', DETAIL = existing;
		END IF;
	END IF;
	RETURN NEXT doc;
END
$$;
