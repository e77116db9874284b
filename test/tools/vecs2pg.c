/*
 * vecs2pg.c
 *	  Converts TEXMEX vector files (.fvecs float32, .bvecs uint8, .ivecs int32;
 *	  each record a little-endian int32 dimension then the values) into
 *	  PostgreSQL COPY text, "id<TAB>[v1,v2,...]" per line, for the demo and the
 *	  benchmarks.  With --bvecs it instead writes the records as .bvecs, which
 *	  is lossless for whole numbers 0..255 (SIFT) and refuses anything else.
 *
 *	  vecs2pg [--offset N] [--limit N] [--first-id K] [--columns N] [--array] [--bvecs] FILE
 *
 * --columns keeps only the first N values of each record (the top 10 of a
 * ground-truth file); --array writes "{...}" (an SQL array) instead of "[...]".
 *
 * The format comes from the file name's ending.  Reads from a pipe too
 * (FILE "-" with --format fvecs|bvecs|ivecs), e.g. from zcat.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum
{
	F_FVECS,
	F_BVECS,
	F_IVECS
} vecs_format;

typedef struct options
{
	long		offset;
	long		limit;
	long		first_id;
	int			to_bvecs;
	int			as_array;
	int			columns;		/* 0: all */
	int			format;			/* -1: from the file name */
	const char *path;
} options;

static void
usage(void)
{
	fprintf(stderr, "usage: vecs2pg [--offset N] [--limit N] [--first-id K] [--columns N] [--array] "
			"[--bvecs] [--format fvecs|bvecs|ivecs] FILE\n");
	exit(2);
}

static int
format_from_name(const char *name)
{
	static const char *const names[] = {"fvecs", "bvecs", "ivecs"};
	size_t		len = strlen(name);

	for (int f = 0; f < 3; f++)
		if (len >= 5 && strcmp(name + len - 5, names[f]) == 0)
			return f;
	return -1;
}

static options
parse_args(int argc, char **argv)
{
	options		o = {0, -1, 0, 0, 0, 0, -1, NULL};

	for (int i = 1; i < argc; i++)
	{
		if (strcmp(argv[i], "--bvecs") == 0)
			o.to_bvecs = 1;
		else if (strcmp(argv[i], "--array") == 0)
			o.as_array = 1;
		else if (i + 1 < argc && strcmp(argv[i], "--columns") == 0)
			o.columns = atoi(argv[++i]);
		else if (i + 1 < argc && strcmp(argv[i], "--offset") == 0)
			o.offset = atol(argv[++i]);
		else if (i + 1 < argc && strcmp(argv[i], "--limit") == 0)
			o.limit = atol(argv[++i]);
		else if (i + 1 < argc && strcmp(argv[i], "--first-id") == 0)
			o.first_id = atol(argv[++i]);
		else if (i + 1 < argc && strcmp(argv[i], "--format") == 0)
			o.format = format_from_name(argv[++i]);
		else if (o.path == NULL)
			o.path = argv[i];
		else
			usage();
	}
	if (o.path == NULL)
		usage();
	if (o.format < 0)
		o.format = format_from_name(o.path);
	if (o.format < 0)
		usage();
	return o;
}

/* Reads one record's values as floats; returns its dimension, 0 at the end. */
static int
read_record(FILE *in, vecs_format format, float **values, int *room)
{
	int32_t		dim;
	size_t		width = (format == F_BVECS) ? 1 : 4;
	unsigned char *raw;

	if (fread(&dim, 4, 1, in) != 1)
		return 0;
	if (dim < 1 || dim > 1000000)
	{
		fprintf(stderr, "vecs2pg: bad dimension %d\n", dim);
		exit(1);
	}
	if (dim > *room)
	{
		*values = realloc(*values, sizeof(float) * dim);
		*room = dim;
	}
	raw = (unsigned char *) *values;
	if (fread(raw, width, dim, in) != (size_t) dim)
	{
		fprintf(stderr, "vecs2pg: truncated record\n");
		exit(1);
	}
	/* widen in place from the back so nothing is overwritten before use */
	for (int i = dim - 1; i >= 0; i--)
	{
		if (format == F_BVECS)
			(*values)[i] = (float) raw[i];
		else if (format == F_IVECS)
		{
			int32_t		v;

			memcpy(&v, raw + 4 * i, 4);
			(*values)[i] = (float) v;
		}
	}
	return dim;
}

static void
write_copy(FILE *out, long id, const float *x, int dim, int as_array)
{
	fprintf(out, "%ld\t%c", id, as_array ? '{' : '[');
	for (int i = 0; i < dim; i++)
		fprintf(out, i ? ",%.9g" : "%.9g", x[i]);
	fputs(as_array ? "}\n" : "]\n", out);
}

static void
write_bvecs(FILE *out, const float *x, int dim)
{
	int32_t		d = dim;

	fwrite(&d, 4, 1, out);
	for (int i = 0; i < dim; i++)
	{
		unsigned char b = (unsigned char) x[i];

		if (x[i] != floorf(x[i]) || x[i] < 0 || x[i] > 255)
		{
			fprintf(stderr, "vecs2pg: %g is not a whole number 0..255\n", x[i]);
			exit(1);
		}
		fputc(b, out);
	}
}

int
main(int argc, char **argv)
{
	options		o = parse_args(argc, argv);
	FILE	   *in = strcmp(o.path, "-") == 0 ? stdin : fopen(o.path, "rb");
	float	   *values = NULL;
	int			room = 0,
				dim;
	long		n = 0,
				written = 0;

	if (in == NULL)
	{
		perror(o.path);
		return 1;
	}
	while ((o.limit < 0 || written < o.limit) &&
		   (dim = read_record(in, (vecs_format) o.format, &values, &room)) > 0)
	{
		if (n++ < o.offset)
			continue;
		if (o.to_bvecs)
			write_bvecs(stdout, values, dim);
		else
			write_copy(stdout, o.first_id + written, values,
					   (o.columns > 0 && o.columns < dim) ? o.columns : dim, o.as_array);
		written++;
	}
	free(values);
	return 0;
}
