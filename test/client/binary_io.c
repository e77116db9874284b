/*
 * binary_io.c
 *	  The vector type's binary form through libpq, the way binary-mode drivers
 *	  and COPY BINARY use it: bit-exact round trips, text/binary agreement, and
 *	  a clean error (with the right SQLSTATE) for every malformed input, with
 *	  the target table left unchanged.
 *
 * Connects with the usual PG* environment variables to a database where the
 * extension is installed.  Prints TAP-style lines and a summary.
 */
#include <arpa/inet.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "libpq-fe.h"

/* the checks main() runs: printed first, so a run that stops early shows what never ran */
#define PLANNED_CHECKS 16

static PGconn *conn;
static Oid	vector_oid;
static int	tests,
			failures;

static void
report(int ok, const char *name)
{
	tests++;
	failures += !ok;
	printf("%sok %d - %s\n", ok ? "" : "not ", tests, name);
}

/* Runs sql (no parameters) and returns the result; aborts on failure. */
static PGresult *
run(const char *sql)
{
	PGresult   *res = PQexec(conn, sql);

	if (PQresultStatus(res) != PGRES_COMMAND_OK && PQresultStatus(res) != PGRES_TUPLES_OK)
	{
		fprintf(stderr, "%s: %s", sql, PQerrorMessage(conn));
		exit(2);
	}
	return res;
}

static long
count_rows(const char *table)
{
	char		sql[128];
	PGresult   *res;
	long		n;

	snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s", table);
	res = run(sql);
	n = atol(PQgetvalue(res, 0, 0));
	PQclear(res);
	return n;
}

/* Binary vector: int16 dim, int16 unused, dim float4, network order. */
static size_t
encode(char *buf, int dim, int unused, const float *x, int nvalues)
{
	uint16_t	h[2] = {htons((uint16_t) dim), htons((uint16_t) unused)};

	memcpy(buf, h, 4);
	for (int i = 0; i < nvalues; i++)
	{
		uint32_t	bits;

		memcpy(&bits, &x[i], 4);
		bits = htonl(bits);
		memcpy(buf + 4 + 4 * i, &bits, 4);
	}
	return 4 + 4 * (size_t) nvalues;
}

/* Executes sql with one binary vector parameter; binary results if asked. */
static PGresult *
exec_binary(const char *sql, const char *value, int len, int binary_result)
{
	int			format = 1;

	return PQexecParams(conn, sql, 1, &vector_oid, &value, &len, &format, binary_result);
}

static float
random_float(unsigned *seed, int i)
{
	static const float specials[] = {0.0f, -0.0f, FLT_MAX, -FLT_MAX, FLT_MIN, 1e-45f, 1.0f, 0.1f};
	uint32_t	bits;
	float		f;

	*seed = *seed * 1664525u + 1013904223u;
	if (i % 13 == 0)
		return specials[(*seed >> 8) % 8];
	bits = *seed ^ (*seed >> 15);
	memcpy(&f, &bits, 4);
	return isfinite(f) ? f : (float) (*seed % 1000) - 500.0f;
}

/* Binary in, binary out: the bytes come back unchanged; text out reads back. */
static void
test_round_trip(void)
{
	unsigned	seed = 7;
	float	   *x = malloc(sizeof(float) * 16000);
	char	   *buf = malloc(4 + 4 * 16000);
	int			bin_ok = 1,
				text_ok = 1;

	for (int t = 0; t < 400 && bin_ok && text_ok; t++)
	{
		int			dim = (t == 0) ? 16000 : 1 + (int) (seed % 300);
		size_t		len;
		PGresult   *res;

		for (int i = 0; i < dim; i++)
			x[i] = random_float(&seed, i);
		len = encode(buf, dim, 0, x, dim);

		res = exec_binary("SELECT $1", buf, (int) len, 1);
		bin_ok = PQresultStatus(res) == PGRES_TUPLES_OK && PQgetlength(res, 0, 0) == (int) len &&
			memcmp(PQgetvalue(res, 0, 0), buf, len) == 0;
		PQclear(res);

		/* the text form must read back (strtof) to the same bits */
		res = exec_binary("SELECT $1", buf, (int) len, 0);
		if (PQresultStatus(res) == PGRES_TUPLES_OK)
		{
			char	   *p = PQgetvalue(res, 0, 0) + 1;

			for (int i = 0; i < dim && text_ok; i++)
			{
				float		f = strtof(p, &p);

				text_ok = memcmp(&f, &x[i], 4) == 0 && (*p == ',' || *p == ']');
				p++;
			}
		}
		else
			text_ok = 0;
		PQclear(res);
	}
	report(bin_ok, "binary parameter round-trips bit for bit (dims 1..300 and 16000)");
	report(text_ok, "text output of binary input reads back to the same bits");
	free(x);
	free(buf);
}

/* One malformed binary input: expect an error with this SQLSTATE, no row. */
static void
expect_bad(const char *name, const char *value, int len, const char *sqlstate)
{
	PGresult   *res = exec_binary("INSERT INTO bin_target VALUES ($1)", value, len, 0);
	const char *got = PQresultErrorField(res, PG_DIAG_SQLSTATE);
	char		label[160];

	snprintf(label, sizeof(label), "%s -> SQLSTATE %s (got %s)", name, sqlstate, got ? got : "none");
	report(PQresultStatus(res) == PGRES_FATAL_ERROR && got && strcmp(got, sqlstate) == 0 &&
		   count_rows("bin_target") == 1, label);
	PQclear(res);
}

static void
test_malformed(void)
{
	float		v3[4] = {1, 2, 3, 4};
	float		nan3[3] = {1, NAN, 3};
	float		inf3[3] = {1, 2, INFINITY};
	char		buf[64];
	char	   *big = calloc(1, 4 + 4 * 16001);

	run("CREATE TEMP TABLE bin_target (v vector(3))");
	run("INSERT INTO bin_target VALUES ('[7,8,9]')");

	expect_bad("3-byte header", "\x00\x03\x00", 3, "22P03");
	expect_bad("empty value", "", 0, "22P03");
	expect_bad("zero dimensions", buf, (int) encode(buf, 0, 0, v3, 0), "22000");
	expect_bad("negative dimensions", buf, (int) encode(buf, -1, 0, v3, 0), "22000");
	expect_bad("16001 dimensions", big, (int) encode(big, 16001, 0, v3, 0) + 4 * 16000, "54000");
	expect_bad("unused field 1", buf, (int) encode(buf, 3, 1, v3, 3), "22P03");
	expect_bad("3 dimensions, 2 values", buf, (int) encode(buf, 3, 0, v3, 2), "22P03");
	expect_bad("trailing bytes", buf, (int) encode(buf, 3, 0, v3, 4), "22P03");
	expect_bad("NaN element", buf, (int) encode(buf, 3, 0, nan3, 3), "22000");
	expect_bad("infinite element", buf, (int) encode(buf, 3, 0, inf3, 3), "22000");
	expect_bad("typmod mismatch (2 into vector(3))", buf, (int) encode(buf, 2, 0, v3, 2), "22000");
	free(big);
}

/* Appends one COPY BINARY tuple holding a single field. */
static size_t
copy_tuple(char *out, const char *value, int len)
{
	uint16_t	nfields = htons(1);
	uint32_t	flen = htonl((uint32_t) len);

	memcpy(out, &nfields, 2);
	memcpy(out + 2, &flen, 4);
	memcpy(out + 6, value, len);
	return 6 + (size_t) len;
}

/* COPY FROM STDIN (FORMAT binary) of buf; returns 1 when it succeeded. */
static int
copy_in(const char *buf, size_t len)
{
	PGresult   *res = PQexec(conn, "COPY copy_target FROM STDIN (FORMAT binary)");
	int			ok;

	if (PQresultStatus(res) != PGRES_COPY_IN)
	{
		PQclear(res);
		return 0;
	}
	PQclear(res);
	PQputCopyData(conn, buf, (int) len);
	PQputCopyEnd(conn, NULL);
	res = PQgetResult(conn);
	ok = PQresultStatus(res) == PGRES_COMMAND_OK;
	PQclear(res);
	while ((res = PQgetResult(conn)) != NULL)
		PQclear(res);
	return ok;
}

/* A COPY BINARY stream: signature, flags, header extension, tuples, trailer. */
static size_t
copy_stream(char *out, int bad_last)
{
	static const char signature[11] = "PGCOPY\n\377\r\n\0";
	float		x[3] = {1.5f, -2.0f, 1e-45f};
	char		value[16];
	size_t		len = 0;
	uint32_t	zero = 0;
	uint16_t	trailer = 0xFFFF;

	memcpy(out, signature, 11);
	memcpy(out + 11, &zero, 4);
	memcpy(out + 15, &zero, 4);
	len = 19;
	for (int i = 0; i < 3; i++)
	{
		x[0] = (float) i;
		len += copy_tuple(out + len, value, (int) encode(value, 3, (bad_last && i == 2), x, 3));
	}
	memcpy(out + len, &trailer, 2);
	return len + 2;
}

/* COPY ... TO STDOUT (FORMAT binary) of sql into out; returns the length. */
static size_t
copy_out(const char *sql, char *out, size_t room)
{
	PGresult   *res = PQexec(conn, sql);
	size_t		len = 0;
	char	   *chunk;
	int			n;

	if (PQresultStatus(res) == PGRES_COPY_OUT)
	{
		while ((n = PQgetCopyData(conn, &chunk, 0)) > 0)
		{
			if (len + (size_t) n <= room)
				memcpy(out + len, chunk, n);
			len += (size_t) n;
			PQfreemem(chunk);
		}
	}
	PQclear(res);
	while ((res = PQgetResult(conn)) != NULL)
		PQclear(res);
	return len;
}

static void
test_copy(void)
{
	char		sent[256],
				received[256];
	size_t		sent_len,
				received_len;

	run("CREATE TEMP TABLE copy_target (v vector(3))");
	report(!copy_in(sent, copy_stream(sent, 1)) && count_rows("copy_target") == 0,
		   "COPY BINARY with a bad last row fails and inserts nothing");
	sent_len = copy_stream(sent, 0);
	report(copy_in(sent, sent_len) && count_rows("copy_target") == 3,
		   "COPY BINARY of 3 good rows inserts 3");

	/* the server writes back exactly the stream it was sent */
	received_len = copy_out("COPY (SELECT v FROM copy_target ORDER BY v) TO STDOUT (FORMAT binary)",
							received, sizeof(received));
	report(received_len == sent_len && memcmp(sent, received, sent_len) == 0,
		   "COPY TO BINARY gives back the same bytes as COPY FROM BINARY took");
}

int
main(void)
{
	PGresult   *res;

	printf("1..%d\n", PLANNED_CHECKS);
	conn = PQconnectdb("");
	if (PQstatus(conn) != CONNECTION_OK)
	{
		fprintf(stderr, "connection failed: %s", PQerrorMessage(conn));
		return 2;
	}
	res = run("SELECT 'vector'::regtype::oid");
	vector_oid = (Oid) strtoul(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);

	test_round_trip();
	test_malformed();
	test_copy();

	printf("# client: %d passed, %d failed\n", tests - failures, failures);
	PQfinish(conn);
	return failures ? 1 : 0;
}
