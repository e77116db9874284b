-- Binary send/recv in pgvector's layout: int16 dim, int16 unused, float4s,
-- network order.  (Malformed binary input is tested by test/client.)

SELECT vector_send('[1,2,3]');
SELECT vector_send('[-0,1e-45,-2.5]');
SELECT vector_send('[3.4028235e38]');

-- COPY BINARY round trip: out, back in, identical bytes.
SELECT setseed(0.25);
CREATE TABLE bin (id int, v vector(5));
INSERT INTO bin SELECT g, ARRAY(SELECT (random() - 0.5) * 1000 FROM generate_series(1, 5) WHERE g > 0)::vector
FROM generate_series(1, 500) g;
\copy bin TO 'results/vector_binary.copy' WITH (FORMAT binary)
CREATE TABLE bin_back (LIKE bin);
\copy bin_back FROM 'results/vector_binary.copy' WITH (FORMAT binary)
SELECT count(*) AS rows, bool_and(vector_send(a.v) = vector_send(b.v)) AS identical
FROM bin a JOIN bin_back b USING (id);

-- The column's typmod applies to binary input too, and a failed COPY loads nothing.
CREATE TABLE bin_narrow (id int, v vector(4));
-- (psql's \copy leaves LAST_ERROR_SQLSTATE unset; the typmod's code, 22000, is
-- checked in vector_input)
\copy bin_narrow FROM 'results/vector_binary.copy' WITH (FORMAT binary)
SELECT count(*) FROM bin_narrow;
DROP TABLE bin, bin_back, bin_narrow;
