-- Introspection ------------------------------------------------------------------

-- Which kernel variant (scalar, avx2, avx512) this server process runs.
CREATE FUNCTION @extschema@.vecrabitq_simd() RETURNS pg_catalog.text
	AS 'MODULE_PATHNAME' LANGUAGE C STABLE STRICT PARALLEL SAFE;

-- The rabitq index access method -----------------------------------------------------

CREATE FUNCTION @extschema@.rabitq_handler(pg_catalog.internal) RETURNS pg_catalog.index_am_handler
	AS 'MODULE_PATHNAME' LANGUAGE C STRICT PARALLEL SAFE;

-- Access method names are global, not schema-qualified.
CREATE ACCESS METHOD rabitq TYPE INDEX HANDLER @extschema@.rabitq_handler;

COMMENT ON ACCESS METHOD rabitq IS 'IVF index of RaBitQ-quantized vectors with multi-bit refining and exact re-ranking';

-- Support function 1 of each operator class names the metric it orders by.
CREATE FUNCTION @extschema@.rabitq_support_l2(pg_catalog.internal) RETURNS pg_catalog.int4
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.rabitq_support_ip(pg_catalog.internal) RETURNS pg_catalog.int4
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.rabitq_support_cosine(pg_catalog.internal) RETURNS pg_catalog.int4
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- The same for a column of half floats (pgvector's halfvec, vecrabitq_pgvector).
CREATE FUNCTION @extschema@.rabitq_support_l2_half(pg_catalog.internal) RETURNS pg_catalog.int4
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.rabitq_support_ip_half(pg_catalog.internal) RETURNS pg_catalog.int4
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.rabitq_support_cosine_half(pg_catalog.internal) RETURNS pg_catalog.int4
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- Key columns of a multi-column rabitq index (the tenant of a row-level-security
-- policy): equality classes with the built-in leakproof `=`, so a policy such as
-- owner = current_user::uuid becomes an index condition.  One integer family holds
-- the cross-type operators, so a bigint column compared with an integer matches.
CREATE OPERATOR CLASS @extschema@.rabitq_uuid_ops
	DEFAULT FOR TYPE pg_catalog.uuid USING rabitq AS
	OPERATOR 2 pg_catalog.= (pg_catalog.uuid, pg_catalog.uuid);

CREATE OPERATOR FAMILY @extschema@.rabitq_integer_ops USING rabitq;

CREATE OPERATOR CLASS @extschema@.rabitq_int2_ops
	DEFAULT FOR TYPE pg_catalog.int2 USING rabitq FAMILY @extschema@.rabitq_integer_ops AS
	OPERATOR 2 pg_catalog.= (pg_catalog.int2, pg_catalog.int2);

CREATE OPERATOR CLASS @extschema@.rabitq_int4_ops
	DEFAULT FOR TYPE pg_catalog.int4 USING rabitq FAMILY @extschema@.rabitq_integer_ops AS
	OPERATOR 2 pg_catalog.= (pg_catalog.int4, pg_catalog.int4);

CREATE OPERATOR CLASS @extschema@.rabitq_int8_ops
	DEFAULT FOR TYPE pg_catalog.int8 USING rabitq FAMILY @extschema@.rabitq_integer_ops AS
	OPERATOR 2 pg_catalog.= (pg_catalog.int8, pg_catalog.int8);

ALTER OPERATOR FAMILY @extschema@.rabitq_integer_ops USING rabitq ADD
	OPERATOR 2 pg_catalog.= (pg_catalog.int2, pg_catalog.int4),
	OPERATOR 2 pg_catalog.= (pg_catalog.int2, pg_catalog.int8),
	OPERATOR 2 pg_catalog.= (pg_catalog.int4, pg_catalog.int2),
	OPERATOR 2 pg_catalog.= (pg_catalog.int4, pg_catalog.int8),
	OPERATOR 2 pg_catalog.= (pg_catalog.int8, pg_catalog.int2),
	OPERATOR 2 pg_catalog.= (pg_catalog.int8, pg_catalog.int4);

-- text keys are compared byte for byte: deterministic collations only (checked at build)
CREATE OPERATOR CLASS @extschema@.rabitq_text_ops
	DEFAULT FOR TYPE pg_catalog.text USING rabitq AS
	OPERATOR 2 pg_catalog.= (pg_catalog.text, pg_catalog.text);

-- Reading an index's internals.  Index pages carry no row-level-security
-- policies, so both functions require the table's owner (or a superuser), refuse
-- while row security applies to the caller, and are not executable by PUBLIC.
CREATE FUNCTION @extschema@.rabitq_index_check(pg_catalog.regclass) RETURNS pg_catalog.int8
	AS 'MODULE_PATHNAME', 'rabitq_index_check' LANGUAGE C STRICT VOLATILE PARALLEL RESTRICTED;
REVOKE ALL ON FUNCTION @extschema@.rabitq_index_check(pg_catalog.regclass) FROM PUBLIC;

CREATE FUNCTION @extschema@.rabitq_index_stats(pg_catalog.regclass,
	OUT lists pg_catalog.int4, OUT entries pg_catalog.int8,
	OUT list_min pg_catalog.int8, OUT list_median pg_catalog.int8, OUT list_max pg_catalog.int8,
	OUT dead_entries pg_catalog.int8, OUT free_lanes pg_catalog.int8, OUT free_bytes pg_catalog.int8,
	OUT drift pg_catalog.float8, OUT build_rows pg_catalog.int8, OUT reindex_advised pg_catalog.bool)
	AS 'MODULE_PATHNAME', 'rabitq_index_stats' LANGUAGE C STRICT VOLATILE PARALLEL RESTRICTED;
REVOKE ALL ON FUNCTION @extschema@.rabitq_index_stats(pg_catalog.regclass) FROM PUBLIC;
