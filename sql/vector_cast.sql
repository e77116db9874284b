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
SELECT '{1,NULL,3}'::integer[]::vector;
SELECT '{{1,2},{3,4}}'::real[]::vector;
SELECT '{}'::real[]::vector;
SELECT '{NaN}'::real[]::vector;
SELECT '{Infinity}'::double precision[]::vector;
SELECT '{1e300}'::double precision[]::vector;
SELECT '{1e100}'::numeric[]::vector;
SELECT '{NaN}'::numeric[]::vector;
SELECT ARRAY[1,2,3]::vector(2);
SELECT '[1,2,3]'::vector::vector(2);
SELECT array_fill(1, ARRAY[16001])::vector;
SELECT ARRAY['a']::vector;
SELECT ARRAY[1,2]::bigint[]::vector;
SELECT * FROM t ORDER BY v;
