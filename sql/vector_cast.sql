-- Casts between vector and arrays, and typmod coercion.

SELECT ARRAY[1,2,3]::vector;
SELECT ARRAY[1.5,2,3]::vector;
SELECT ARRAY[1,2,3]::real[]::vector;
SELECT ARRAY[1.25,2,3]::double precision[]::vector;
SELECT ARRAY[1.25,2,3]::numeric[]::vector;
SELECT '{-0.5,1e-3}'::real[]::vector;
SELECT '[1,2,3]'::vector::real[];
SELECT '[1,2,3]'::vector::vector(3);
SELECT ARRAY[1,2,3]::vector(3);

-- Assignment casts into a vector column.
CREATE TEMP TABLE t (v vector(3));
INSERT INTO t VALUES (ARRAY[1,2,3]), ('{4,5,6}'::real[]), (ARRAY[7,8,9]::float8[]);
SELECT v FROM t ORDER BY v;

-- Errors.
SELECT '{NULL}'::real[]::vector;
\echo :LAST_ERROR_SQLSTATE
SELECT '{1,NULL,3}'::integer[]::vector;
\echo :LAST_ERROR_SQLSTATE
SELECT '{{1,2},{3,4}}'::real[]::vector;
\echo :LAST_ERROR_SQLSTATE
SELECT '{}'::real[]::vector;
\echo :LAST_ERROR_SQLSTATE
SELECT '{NaN}'::real[]::vector;
\echo :LAST_ERROR_SQLSTATE
SELECT '{Infinity}'::double precision[]::vector;
\echo :LAST_ERROR_SQLSTATE
SELECT '{1e300}'::double precision[]::vector;
\echo :LAST_ERROR_SQLSTATE
SELECT '{1e100}'::numeric[]::vector;
\echo :LAST_ERROR_SQLSTATE
SELECT '{NaN}'::numeric[]::vector;
\echo :LAST_ERROR_SQLSTATE
SELECT ARRAY[1,2,3]::vector(2);
\echo :LAST_ERROR_SQLSTATE
SELECT '[1,2,3]'::vector::vector(2);
\echo :LAST_ERROR_SQLSTATE
SELECT array_fill(1, ARRAY[16001])::vector;
\echo :LAST_ERROR_SQLSTATE
SELECT ARRAY['a']::vector;
\echo :LAST_ERROR_SQLSTATE
SELECT ARRAY[1,2]::bigint[]::vector;
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM t ORDER BY v;
