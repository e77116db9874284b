-- Operator classes for pgvector's vector and halfvec, ordering by pgvector's
-- own distance operators, so existing queries use the index unchanged.
CREATE OPERATOR CLASS @extschema@.vector_l2_ops
	DEFAULT FOR TYPE vector USING rabitq AS
	OPERATOR 1 <-> (vector, vector) FOR ORDER BY pg_catalog.float_ops,
	FUNCTION 1 @extschema@.rabitq_support_l2(pg_catalog.internal);

CREATE OPERATOR CLASS @extschema@.vector_ip_ops
	FOR TYPE vector USING rabitq AS
	OPERATOR 1 <#> (vector, vector) FOR ORDER BY pg_catalog.float_ops,
	FUNCTION 1 @extschema@.rabitq_support_ip(pg_catalog.internal);

CREATE OPERATOR CLASS @extschema@.vector_cosine_ops
	FOR TYPE vector USING rabitq AS
	OPERATOR 1 <=> (vector, vector) FOR ORDER BY pg_catalog.float_ops,
	FUNCTION 1 @extschema@.rabitq_support_cosine(pg_catalog.internal);

CREATE OPERATOR CLASS @extschema@.halfvec_l2_ops
	DEFAULT FOR TYPE halfvec USING rabitq AS
	OPERATOR 1 <-> (halfvec, halfvec) FOR ORDER BY pg_catalog.float_ops,
	FUNCTION 1 @extschema@.rabitq_support_l2_half(pg_catalog.internal);

CREATE OPERATOR CLASS @extschema@.halfvec_ip_ops
	FOR TYPE halfvec USING rabitq AS
	OPERATOR 1 <#> (halfvec, halfvec) FOR ORDER BY pg_catalog.float_ops,
	FUNCTION 1 @extschema@.rabitq_support_ip_half(pg_catalog.internal);

CREATE OPERATOR CLASS @extschema@.halfvec_cosine_ops
	FOR TYPE halfvec USING rabitq AS
	OPERATOR 1 <=> (halfvec, halfvec) FOR ORDER BY pg_catalog.float_ops,
	FUNCTION 1 @extschema@.rabitq_support_cosine_half(pg_catalog.internal);
