-- Give every empty table of the public schema one row, as an application's
-- seed script would (test/scripts/lint-corpus with SG_SEED=1): columns
-- without a default get a value of their type ('x' for text, so that a text
-- foreign key finds the 'x' row of the table it references).  Tables whose
-- insert fails (a foreign key to a table not seeded yet) are tried again
-- until no more succeed.
DO $seed$
DECLARE
	t regclass;
	progress boolean := true;
	cols text;
	vals text;
BEGIN
	WHILE progress LOOP
		progress := false;
		FOR t IN SELECT c.oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		          WHERE n.nspname = 'public' AND c.relkind = 'r'
		            AND c.relname NOT LIKE '\_prisma%' LOOP
			CONTINUE WHEN EXISTS (SELECT FROM pg_stat_user_tables s WHERE s.relid = t AND s.n_live_tup > 0);
			EXECUTE format('SELECT EXISTS (SELECT FROM %s)', t) INTO progress;
			IF progress THEN progress := false; CONTINUE; END IF;
			SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY a.attnum),
			       string_agg(CASE
			           WHEN y.typtype = 'e' THEN quote_literal((SELECT e.enumlabel FROM pg_enum e WHERE e.enumtypid = y.oid ORDER BY e.enumsortorder LIMIT 1)) || '::' || a.atttypid::regtype
			           WHEN a.attndims > 0 OR y.typcategory = 'A' THEN '''{}'''
			           WHEN y.typcategory = 'S' THEN '''x'''
			           WHEN y.typcategory = 'N' THEN '1'
			           WHEN y.typcategory = 'B' THEN 'false'
			           WHEN y.typcategory = 'D' THEN 'now()'
			           WHEN y.typname IN ('json', 'jsonb') THEN '''{}'''
			           WHEN y.typname = 'uuid' THEN 'gen_random_uuid()'
			           ELSE 'NULL' END || '::' || format_type(a.atttypid, a.atttypmod), ', ' ORDER BY a.attnum)
			  INTO cols, vals
			  FROM pg_attribute a JOIN pg_type y ON y.oid = a.atttypid
			 WHERE a.attrelid = t AND a.attnum > 0 AND NOT a.attisdropped
			   AND a.attnotnull AND NOT a.atthasdef AND a.attidentity = '' AND a.attgenerated = '';
			BEGIN
				IF cols IS NULL THEN
					EXECUTE format('INSERT INTO %s DEFAULT VALUES', t);
				ELSE
					EXECUTE format('INSERT INTO %s (%s) VALUES (%s)', t, cols, vals);
				END IF;
				progress := true;
			EXCEPTION WHEN OTHERS THEN NULL;
			END;
		END LOOP;
	END LOOP;
END
$seed$;
ANALYZE;
