-- Text input and output of the vector type.

SELECT '[1,2,3]'::vector;
SELECT '[-1,-2,-3]'::vector;
SELECT '[1.,2.,3.]'::vector;
SELECT ' [ 1,  2 ,    3  ] '::vector;
SELECT E'\t[1,\n2]\n'::vector;
SELECT '[1.23456]'::vector;
SELECT '[+1,-0,1e-3,1E2,.5]'::vector;
SELECT '[0x1p-2]'::vector;

-- Output is the shortest text that reads back to the same float.
SELECT '[0.0015,-200]'::vector;
SELECT '[0.1,0.2,0.3]'::vector;
SELECT '[3.4028235e38,-3.4028235e38,1.1754944e-38,1e-45]'::vector;
SELECT '[1e20,123456789]'::vector;
SELECT '[1e-50]'::vector;

-- Same digits as PostgreSQL's own real output, and bit-exact round trips.
SELECT setseed(0.42);
CREATE TEMP TABLE samples AS
SELECT g / 32 AS id,
	   array_agg(((random() - 0.5) * 10 ^ (floor(random() * 70) - 35))::real ORDER BY g) AS a
FROM generate_series(0, 32 * 200 - 1) g GROUP BY g / 32;
SELECT count(*) AS vectors,
	   bool_and(a::vector::text = '[' || array_to_string(a, ',') || ']') AS same_as_real_out,
	   bool_and(vector_send(a::vector::text::vector) = vector_send(a::vector)) AS round_trip
FROM samples;

-- Syntax errors.
SELECT ''::vector;
\echo :LAST_ERROR_SQLSTATE
SELECT '1,2,3'::vector;
\echo :LAST_ERROR_SQLSTATE
SELECT '[1,2,3'::vector;
\echo :LAST_ERROR_SQLSTATE
SELECT '[1,2,3]]'::vector;
\echo :LAST_ERROR_SQLSTATE
SELECT '[1,2,3] x'::vector;
\echo :LAST_ERROR_SQLSTATE
SELECT '[1,2,]'::vector;
\echo :LAST_ERROR_SQLSTATE
SELECT '[,1]'::vector;
\echo :LAST_ERROR_SQLSTATE
SELECT '[1 2]'::vector;
\echo :LAST_ERROR_SQLSTATE
SELECT '[hello,1]'::vector;
\echo :LAST_ERROR_SQLSTATE
SELECT '{1,2,3}'::vector;
\echo :LAST_ERROR_SQLSTATE

-- Values that are not finite floats.
SELECT '[NaN,1]'::vector;
\echo :LAST_ERROR_SQLSTATE
SELECT '[1,Infinity]'::vector;
\echo :LAST_ERROR_SQLSTATE
SELECT '[-inf]'::vector;
\echo :LAST_ERROR_SQLSTATE
SELECT '[4e38]'::vector;
\echo :LAST_ERROR_SQLSTATE
SELECT '[1,-1e39]'::vector;
\echo :LAST_ERROR_SQLSTATE

-- Dimensions: at least 1, at most 16000.
SELECT '[]'::vector;
\echo :LAST_ERROR_SQLSTATE
SELECT '[ ]'::vector;
\echo :LAST_ERROR_SQLSTATE
SELECT vector_dims(('[' || array_to_string(array_fill(1, ARRAY[16000]), ',') || ']')::vector);
SELECT ('[' || array_to_string(array_fill(1, ARRAY[16001]), ',') || ']')::vector;
\echo :LAST_ERROR_SQLSTATE

-- Type modifiers.
SELECT '[1,2,3]'::vector(3);
SELECT '[1,2]'::vector(3);
\echo :LAST_ERROR_SQLSTATE
SELECT '[1,2,3,4]'::vector(3);
\echo :LAST_ERROR_SQLSTATE
SELECT '[1]'::vector(0);
\echo :LAST_ERROR_SQLSTATE
SELECT '[1]'::vector(16001);
\echo :LAST_ERROR_SQLSTATE
SELECT '[1]'::vector(2,3);
\echo :LAST_ERROR_SQLSTATE
SELECT format_type('vector'::regtype, 768), format_type('vector'::regtype, -1);

-- Arrays of vectors; the element typmod applies to each element.
SELECT unnest('{"[1,2,3]", "[4,5,6]"}'::vector[]);
SELECT '{"[1,2,3]"}'::vector(2)[];
\echo :LAST_ERROR_SQLSTATE

-- Bad input loses nothing: failed statements leave the table as it was.
CREATE TABLE items (id int, v vector(3));
INSERT INTO items VALUES (1, '[1,2,3]');
INSERT INTO items VALUES (2, '[1,2]');
\echo :LAST_ERROR_SQLSTATE
INSERT INTO items VALUES (2, '[4,5,6]'), (3, '[7,8,NaN]');
\echo :LAST_ERROR_SQLSTATE
UPDATE items SET v = '[1,2,3,4]' WHERE id = 1;
\echo :LAST_ERROR_SQLSTATE
COPY items FROM stdin;
4	[1,1,1]
5	[1,1,1
\.
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM items;
\d items
DROP TABLE items;
