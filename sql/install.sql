-- Extension hygiene: what the install script creates and how.

-- Reinstall into a schema where an untrusted role has planted look-alikes of
-- built-in names; the script qualifies everything, so none is picked up.
DROP EXTENSION vecrabitq;
CREATE ROLE vr_hostile;
CREATE SCHEMA vr_target;
GRANT USAGE, CREATE ON SCHEMA vr_target TO vr_hostile;
SET ROLE vr_hostile;
CREATE TYPE vr_target.float8 AS (x int);
CREATE TYPE vr_target.int4 AS (x int);
CREATE TYPE vr_target.cstring AS (x int);
CREATE FUNCTION vr_target.sqrt(double precision) RETURNS double precision
	LANGUAGE sql AS 'SELECT 42::double precision';
RESET ROLE;
SET search_path = vr_target, public;
CREATE EXTENSION vecrabitq SCHEMA vr_target;

-- Every dependency of an extension member is a built-in object or another
-- member: nothing the hostile role created is referenced.
WITH members AS (
	SELECT classid, objid FROM pg_depend
	WHERE refclassid = 'pg_extension'::regclass AND deptype = 'e'
	  AND refobjid = (SELECT oid FROM pg_extension WHERE extname = 'vecrabitq')
)
SELECT pg_describe_object(d.classid, d.objid, 0) AS member,
	   pg_describe_object(d.refclassid, d.refobjid, 0) AS depends_on
FROM pg_depend d JOIN members m USING (classid, objid)
WHERE d.deptype = 'n' AND d.refobjid >= 16384
  AND (d.refclassid, d.refobjid) NOT IN (SELECT classid, objid FROM members)
  AND NOT (d.refclassid = 'pg_namespace'::regclass
		   AND d.refobjid = 'vr_target'::regnamespace);

SELECT '[3,4]'::vr_target.vector OPERATOR(vr_target.<->) '[0,0]' AS l2;

DROP EXTENSION vecrabitq;
DROP SCHEMA vr_target CASCADE;
DROP ROLE vr_hostile;
RESET search_path;
CREATE EXTENSION vecrabitq;

-- No function is SECURITY DEFINER or LEAKPROOF.
SELECT p.oid::regprocedure FROM pg_proc p
JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e'
WHERE d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'vecrabitq')
  AND (p.prosecdef OR p.proleakproof);

-- Distance functions: IMMUTABLE, STRICT, PARALLEL SAFE, COST 1.
SELECT proname, provolatile, proisstrict, proparallel, procost, proleakproof
FROM pg_proc
WHERE proname IN ('l2_distance', 'inner_product', 'vector_negative_inner_product',
				  'cosine_distance', 'l1_distance', 'vector_l2_squared_distance')
ORDER BY proname;

-- Every function is STRICT and PARALLEL SAFE, except the two that inspect an
-- index (PARALLEL RESTRICTED: they lock the table and walk the whole index).
SELECT p.oid::regprocedure FROM pg_proc p
JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e'
WHERE d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'vecrabitq')
  AND p.prokind = 'f' AND (NOT p.proisstrict OR p.proparallel <> 's')
  AND p.proname NOT IN ('rabitq_index_check', 'rabitq_index_stats');

-- The operators and what they call.
SELECT oprname, oprcode, oprcom::regoperator AS commutator
FROM pg_operator WHERE oprleft = 'vector'::regtype AND oprname IN ('<->', '<#>', '<=>', '<+>')
ORDER BY oprname;

-- Loading the library starts no thread in the backend (OpenBLAS, which would
-- start one per core, is only loaded by index builds, single-threaded).
SELECT count(*) AS backend_threads FROM pg_ls_dir('/proc/' || pg_backend_pid() || '/task');

-- The kernel variant is one of the three.
SELECT vecrabitq_simd() IN ('scalar', 'avx2', 'avx512') AS known_simd;
