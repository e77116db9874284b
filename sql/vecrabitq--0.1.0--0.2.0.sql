-- vecrabitq 0.1.0 -> 0.2.0: the support functions for half-float columns
-- (used by vecrabitq_pgvector's halfvec operator classes), and the access
-- method's description.  Indexes built by 0.1.0 (on-disk format 2) are
-- refused by 0.2.0's library with a hint to REINDEX them (format 3 adds the
-- refining codes).

\echo Use "ALTER EXTENSION vecrabitq UPDATE TO '0.2.0'" to load this file. \quit

COMMENT ON ACCESS METHOD rabitq IS 'IVF index of RaBitQ-quantized vectors with multi-bit refining and exact re-ranking';

CREATE FUNCTION @extschema@.rabitq_support_l2_half(pg_catalog.internal) RETURNS pg_catalog.int4
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.rabitq_support_ip_half(pg_catalog.internal) RETURNS pg_catalog.int4
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.rabitq_support_cosine_half(pg_catalog.internal) RETURNS pg_catalog.int4
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
