/* SPDX-License-Identifier: MIT */
/*
 * The Smartcard Web Server: an HTTP/1.1 origin server (RFC 9110, 9112) for
 * one connection at a time, driven by the bytes of a BIP channel.  See
 * scws.h for what it serves.
 *
 * Input is a byte stream in arbitrary pieces (RECEIVE DATA gives at most
 * 237 bytes at a time), so the parser is a state machine that never needs
 * more than the request head in memory; bodies pass through.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "scws.h"
#include "vuicc.h"

#define SCWS_MAX_PATH		1024

enum scws_state {
	SCWS_HEAD,	/* reading a request line and its header fields */
	SCWS_ECHO,	/* POST /echo: body bytes go straight back out */
	SCWS_DISCARD,	/* a body nobody wants, skipped to reach the next request */
	SCWS_DM,	/* POST /OMA/DM: the body is collected for the DM handler */
	SCWS_CLOSED,	/* the last response closes the connection: input ignored */
};

/* What the request head says, RFC 9112 clauses 3 and 6. */
struct request {
	const char *method;
	const char *target;
	int minor;		/* HTTP/1.minor */
	bool has_length;
	uint64_t length;
	bool conn_close, conn_keep_alive;
	bool transfer_encoding;
	bool expect_continue;
	const char *content_type;
	const char *hmac;	/* x-syncml-hmac */
};

struct scws {
	const char *www;
	scws_out_fn out;
	void *ctx;
	enum scws_state state;
	char head[SCWS_MAX_HEAD + 1];
	size_t head_len;
	uint64_t body_left;	/* ECHO, DISCARD, DM */
	bool close_after;	/* enter CLOSED once the body is over */
	/* DM: the request (pointing into head, intact until the next one) */
	struct request dm_rq;
	char dm_path[SCWS_MAX_PATH];
	uint8_t *dm_body;
	size_t dm_len;
};

static void after_response(struct scws *s, uint64_t body, bool close);

static scws_dm_fn dm_handler;
static void *dm_handler_ctx;

void
scws_set_dm_handler(scws_dm_fn fn, void *ctx)
{
	dm_handler = fn;
	dm_handler_ctx = ctx;
}


static const char builtin_page[] =
	"<!DOCTYPE html>\n"
	"<html><head><meta charset=\"utf-8\"><title>dmsc-vuicc</title></head>\n"
	"<body><h1>dmsc-vuicc Smartcard Web Server</h1>\n"
	"<p>Served by the virtual UICC over BIP (UICC server mode).</p>\n"
	"</body></html>\n";

static const char *
state_name(enum scws_state st)
{
	switch (st) {
	case SCWS_HEAD:
		return "HEAD";
	case SCWS_ECHO:
		return "ECHO";
	case SCWS_DISCARD:
		return "DISCARD";
	case SCWS_DM:
		return "DM";
	case SCWS_CLOSED:
		return "CLOSED";
	}
	return "?";
}

static void
scws_enter(struct scws *s, enum scws_state st)
{
	if (s->state != st)
		vuicc_verbose("scws: %s -> %s", state_name(s->state),
			      state_name(st));
	s->state = st;
	if (st == SCWS_HEAD)
		s->head_len = 0;
}

struct scws *
scws_new(const char *www_dir, scws_out_fn out, void *ctx)
{
	struct scws *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	s->www = www_dir;
	s->out = out;
	s->ctx = ctx;
	s->state = SCWS_HEAD;
	return s;
}

void
scws_free(struct scws *s)
{
	if (s)
		free(s->dm_body);
	free(s);
}

void
scws_reset(struct scws *s)
{
	free(s->dm_body);
	s->dm_body = NULL;
	s->dm_len = 0;
	scws_enter(s, SCWS_HEAD);
	s->body_left = 0;
	s->close_after = false;
}

bool
scws_closing(const struct scws *s)
{
	return s->state == SCWS_CLOSED ||
	       (s->close_after && s->state != SCWS_HEAD);
}

/* --- responses --------------------------------------------------------- */

static const char *
reason(int code)
{
	switch (code) {
	case 100: return "Continue";
	case 200: return "OK";
	case 400: return "Bad Request";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 411: return "Length Required";
	case 413: return "Content Too Large";
	case 415: return "Unsupported Media Type";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 505: return "HTTP Version Not Supported";
	}
	return "Unknown";
}

static void
out_str(struct scws *s, const char *str)
{
	s->out(s->ctx, (const uint8_t *)str, strlen(str));
}

/*
 * Status line and header fields.  Connection: close when closing; an
 * HTTP/1.0 client that asked for keep-alive is told it got it (RFC 9112
 * clause 9.3).
 */
static void
send_head(struct scws *s, const struct request *rq, int code,
	  const char *ctype, uint64_t length, bool close, const char *extra)
{
	char buf[1024];

	snprintf(buf, sizeof(buf),
		 "HTTP/1.1 %d %s\r\n"
		 "Server: dmsc-vuicc\r\n"
		 "Content-Type: %s\r\n"
		 "Content-Length: %" PRIu64 "\r\n"
		 "%s%s\r\n",
		 code, reason(code), ctype, length,
		 close ? "Connection: close\r\n" :
		 rq && rq->minor == 0 ? "Connection: keep-alive\r\n" : "",
		 extra ? extra : "");
	out_str(s, buf);
}

/* A short text/plain error response. */
static void
send_error(struct scws *s, const struct request *rq, int code, bool close,
	   const char *extra)
{
	char body[96];
	bool head_only = rq && rq->method && strcmp(rq->method, "HEAD") == 0;

	snprintf(body, sizeof(body), "%d %s\n", code, reason(code));
	send_head(s, rq, code, "text/plain; charset=utf-8", strlen(body), close,
		  extra);
	if (!head_only)
		out_str(s, body);
	vuicc_verbose("scws: %s %s -> %d%s", rq && rq->method ? rq->method : "?",
		      rq && rq->target ? rq->target : "?", code,
		      close ? " (closing)" : "");
}

/* --- request head ------------------------------------------------------ */

static bool
is_tchar(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9') || strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static char *
trim_ows(char *v)
{
	char *end;

	v += strspn(v, " \t");
	end = v + strlen(v);
	while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
		*--end = '\0';
	return v;
}

/* Connection tokens, RFC 9110 clause 7.6.1. */
static void
parse_connection(struct request *rq, char *v)
{
	char *tok, *save = NULL;

	for (tok = strtok_r(v, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		tok = trim_ows(tok);
		if (strcasecmp(tok, "close") == 0)
			rq->conn_close = true;
		else if (strcasecmp(tok, "keep-alive") == 0)
			rq->conn_keep_alive = true;
	}
}

/* Content-Length, RFC 9112 clause 6.3: digits only; repeats must agree. */
static int
parse_length(struct request *rq, const char *v)
{
	uint64_t n = 0;
	const char *p;

	if (*v == '\0' || strlen(v) > 15)
		return -1;
	for (p = v; *p; p++) {
		if (*p < '0' || *p > '9')
			return -1;
		n = n * 10 + (uint64_t)(*p - '0');
	}
	if (rq->has_length && rq->length != n)
		return -1;
	rq->has_length = true;
	rq->length = n;
	return 0;
}

/*
 * Split the head (NUL-terminated, lines ending in CRLF or LF) into the
 * request line and the fields we use.  Returns 0, or the status code to
 * answer (400, 505).
 */
static int
parse_head(char *head, struct request *rq)
{
	char *line, *next, *colon, *sp1, *sp2, *ver;

	memset(rq, 0, sizeof(*rq));
	line = head;
	next = strchr(line, '\n');
	if (next)
		*next++ = '\0';
	line[strcspn(line, "\r")] = '\0';

	/* request-line = method SP request-target SP HTTP-version */
	sp1 = strchr(line, ' ');
	if (sp1 == NULL || sp1 == line)
		return 400;
	*sp1 = '\0';
	sp2 = strchr(sp1 + 1, ' ');
	if (sp2 == NULL || sp2 == sp1 + 1)
		return 400;
	*sp2 = '\0';
	ver = sp2 + 1;
	rq->method = line;
	rq->target = sp1 + 1;
	for (const char *c = rq->method; *c; c++)
		if (!is_tchar(*c))
			return 400;
	if (strchr(rq->target, ' ') || strchr(rq->target, '\t'))
		return 400;
	if (strcmp(ver, "HTTP/1.1") == 0)
		rq->minor = 1;
	else if (strcmp(ver, "HTTP/1.0") == 0)
		rq->minor = 0;
	else if (strncmp(ver, "HTTP/", 5) == 0 && ver[5] >= '0' && ver[5] <= '9')
		return 505;
	else
		return 400;

	for (line = next; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		line[strcspn(line, "\r")] = '\0';
		if (*line == '\0')
			break;
		/* Obsolete line folding and blanks before the colon: 400. */
		if (*line == ' ' || *line == '\t')
			return 400;
		colon = strchr(line, ':');
		if (colon == NULL || colon == line)
			return 400;
		*colon = '\0';
		for (const char *c = line; *c; c++)
			if (!is_tchar(*c))
				return 400;
		char *v = trim_ows(colon + 1);

		if (strcasecmp(line, "Content-Length") == 0) {
			if (parse_length(rq, v) < 0)
				return 400;
		} else if (strcasecmp(line, "Transfer-Encoding") == 0) {
			rq->transfer_encoding = true;
		} else if (strcasecmp(line, "Connection") == 0) {
			parse_connection(rq, v);
		} else if (strcasecmp(line, "Expect") == 0) {
			if (strcasecmp(v, "100-continue") == 0)
				rq->expect_continue = true;
		} else if (strcasecmp(line, "Content-Type") == 0) {
			rq->content_type = v;
		} else if (strcasecmp(line, "x-syncml-hmac") == 0) {
			rq->hmac = v;
		}
	}
	return 0;
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * The path of a request target (origin-form, or absolute-form, RFC 9112
 * clause 3.2), percent-decoded, without query.  Returns 0, 400 or 404 (a
 * ".." segment never leaves the --www directory).
 */
static int
target_path(const char *target, char *path, size_t cap)
{
	const char *p = target, *end;
	size_t n = 0;
	int hi, lo;

	if (strncasecmp(p, "http://", 7) == 0 || strncasecmp(p, "https://", 8) == 0) {
		p = strstr(p, "//") + 2;
		p += strcspn(p, "/?#");
		if (*p != '/')
			p = "/";
	}
	if (*p != '/')
		return 400;
	end = p + strcspn(p, "?#");
	for (; p < end; p++) {
		char c = *p;

		if (c == '%') {
			if (end - p < 3 || (hi = hexval(p[1])) < 0 ||
			    (lo = hexval(p[2])) < 0)
				return 400;
			c = (char)(hi << 4 | lo);
			p += 2;
			if (c == '\0')
				return 400;
		}
		if (n + 1 >= cap)
			return 404;
		path[n++] = c;
	}
	path[n] = '\0';
	for (p = path; *p; ) {
		size_t seg;

		p += strspn(p, "/");
		seg = strcspn(p, "/");
		if (seg == 2 && p[0] == '.' && p[1] == '.')
			return 404;
		p += seg;
	}
	return 0;
}

static const char *
content_type(const char *path)
{
	static const struct {
		const char *ext, *type;
	} types[] = {
		{ ".html", "text/html; charset=utf-8" },
		{ ".htm", "text/html; charset=utf-8" },
		{ ".txt", "text/plain; charset=utf-8" },
		{ ".css", "text/css" },
		{ ".js", "text/javascript" },
		{ ".json", "application/json" },
		{ ".xml", "application/xml" },
		{ ".png", "image/png" },
		{ ".jpg", "image/jpeg" },
		{ ".gif", "image/gif" },
		{ ".svg", "image/svg+xml" },
	};
	const char *dot = strrchr(path, '.');
	size_t i;

	if (dot && strchr(dot, '/') == NULL)
		for (i = 0; i < sizeof(types) / sizeof(types[0]); i++)
			if (strcasecmp(dot, types[i].ext) == 0)
				return types[i].type;
	return "application/octet-stream";
}

/* Read a regular file of at most SCWS_MAX_BODY bytes.  0, -ENOENT, -EFBIG, -errno. */
static int
read_file(const char *path, bool want_data, uint8_t **data, size_t *len)
{
	struct stat st;
	size_t off = 0;
	ssize_t r;
	int fd, err;

	*data = NULL;
	*len = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return errno == ENOENT || errno == ENOTDIR || errno == EACCES ?
		       -ENOENT : -errno;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return -ENOENT;
	}
	if ((uint64_t)st.st_size > SCWS_MAX_BODY) {
		close(fd);
		return -EFBIG;
	}
	*len = (size_t)st.st_size;
	if (!want_data || *len == 0) {
		close(fd);
		return 0;
	}
	*data = malloc(*len);
	if (*data == NULL) {
		close(fd);
		return -ENOMEM;
	}
	while (off < *len) {
		r = read(fd, *data + off, *len - off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			err = r < 0 ? -errno : -EIO;
			free(*data);
			*data = NULL;
			close(fd);
			return err;
		}
		off += (size_t)r;
	}
	close(fd);
	return 0;
}

/* GET and HEAD: a file from --www, or the built-in page.  Returns close. */
static bool
serve_static(struct scws *s, const struct request *rq, bool close)
{
	char path[SCWS_MAX_PATH], full[SCWS_MAX_PATH + 4096];
	bool head_only = strcmp(rq->method, "HEAD") == 0;
	uint8_t *data = NULL;
	size_t len;
	int code, r;

	code = target_path(rq->target, path, sizeof(path));
	if (code != 0) {
		close = close || code == 400;
		send_error(s, rq, code, close, NULL);
		return close;
	}
	if (s->www == NULL) {
		if (strcmp(path, "/") != 0 && strcmp(path, "/index.html") != 0) {
			send_error(s, rq, 404, close, NULL);
			return close;
		}
		send_head(s, rq, 200, "text/html; charset=utf-8",
			  sizeof(builtin_page) - 1, close, NULL);
		if (!head_only)
			out_str(s, builtin_page);
		vuicc_verbose("scws: %s %s -> 200 (built-in page)", rq->method,
			      rq->target);
		return close;
	}
	snprintf(full, sizeof(full), "%s%s%s", s->www, path,
		 path[strlen(path) - 1] == '/' ? "index.html" : "");
	r = read_file(full, !head_only, &data, &len);
	if (r < 0) {
		send_error(s, rq, r == -ENOENT ? 404 : 500, close, NULL);
		return close;
	}
	send_head(s, rq, 200, content_type(full), len, close, NULL);
	if (!head_only && len > 0)
		s->out(s->ctx, data, len);
	free(data);
	vuicc_verbose("scws: %s %s -> 200 (%zu bytes)", rq->method, rq->target,
		      len);
	return close;
}

/* The request is answered and its body consumed. */
static void
request_done(struct scws *s)
{
	scws_enter(s, s->close_after ? SCWS_CLOSED : SCWS_HEAD);
}

/* The path is /OMA/DM or starts with it (OMA-TS-DM_SC: AppAddr). */
static bool
is_dm_path(const char *path)
{
	return strncmp(path, "/OMA/DM", 7) == 0;
}

/* application/vnd.syncml.dm+xml or +wbxml, parameters allowed. */
static bool
is_dm_type(const char *ctype)
{
	static const char *const types[] = {
		"application/vnd.syncml.dm+xml",
		"application/vnd.syncml.dm+wbxml",
	};
	size_t i, l;

	if (ctype == NULL)
		return false;
	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		l = strlen(types[i]);
		if (strncasecmp(ctype, types[i], l) == 0 &&
		    (ctype[l] == '\0' || ctype[l] == ';' || ctype[l] == ' ' ||
		     ctype[l] == '\t'))
			return true;
	}
	return false;
}

/* The whole DM body is here: ask the handler, send its answer. */
static void
dm_answer(struct scws *s)
{
	const struct request *rq = &s->dm_rq;
	struct scws_dm_request dq = {
		.path = s->dm_path,
		.content_type = rq->content_type,
		.hmac = rq->hmac,
		.body = s->dm_body ? s->dm_body : (const uint8_t *)"",
		.len = s->dm_len,
	};
	struct scws_dm_response dr;
	char extra[340];

	memset(&dr, 0, sizeof(dr));
	dr.status = 500;
	snprintf(dr.content_type, sizeof(dr.content_type), "text/plain");
	if (dm_handler)
		dm_handler(dm_handler_ctx, &dq, &dr);
	extra[0] = '\0';
	if (dr.hmac[0] != '\0')
		snprintf(extra, sizeof(extra), "x-syncml-hmac: %.300s\r\n",
			 dr.hmac);
	send_head(s, rq, dr.status, dr.content_type, dr.len, s->close_after,
		  extra);
	if (dr.len > 0 && dr.body)
		s->out(s->ctx, dr.body, dr.len);
	vuicc_verbose("scws: POST %s (%zu bytes) -> %d (%zu bytes)", s->dm_path,
		      s->dm_len, dr.status, dr.len);
	free(dr.body);
	free(s->dm_body);
	s->dm_body = NULL;
	s->dm_len = 0;
	request_done(s);
}

/* POST to the DM route: collect the body (Content-Length required). */
static void
dm_start(struct scws *s, const struct request *rq, const char *path,
	 bool close, bool unread_close)
{
	if (!is_dm_type(rq->content_type)) {
		send_error(s, rq, 415, unread_close, NULL);
		after_response(s, rq->has_length ? rq->length : 0,
			       unread_close);
		return;
	}
	if (!rq->has_length) {
		send_error(s, rq, 411, close, NULL);
		after_response(s, 0, close);
		return;
	}
	if (rq->length > SCWS_MAX_DM_BODY) {
		send_error(s, rq, 413, true, NULL);
		after_response(s, 0, true);
		return;
	}
	free(s->dm_body);
	s->dm_body = rq->length ? malloc((size_t)rq->length) : NULL;
	if (rq->length && s->dm_body == NULL) {
		send_error(s, rq, 500, true, NULL);
		after_response(s, 0, true);
		return;
	}
	if (rq->expect_continue && rq->minor == 1)
		out_str(s, "HTTP/1.1 100 Continue\r\n\r\n");
	s->dm_rq = *rq;
	snprintf(s->dm_path, sizeof(s->dm_path), "%s", path);
	s->dm_len = 0;
	s->close_after = close;
	s->body_left = rq->length;
	if (rq->length > 0)
		scws_enter(s, SCWS_DM);
	else
		dm_answer(s);
}

/* Skip a body of n bytes (or close when it cannot be trusted), then go on. */
static void
after_response(struct scws *s, uint64_t body, bool close)
{
	s->close_after = close;
	s->body_left = body;
	if (body > 0 && !close)
		scws_enter(s, SCWS_DISCARD);
	else
		request_done(s);
}

static void
handle_request(struct scws *s)
{
	char path[SCWS_MAX_PATH];
	struct request rq;
	uint64_t body;
	bool keep, close, unread_close;
	int code;

	s->head[s->head_len] = '\0';
	code = parse_head(s->head, &rq);
	if (code != 0) {
		send_error(s, &rq, code, true, NULL);
		after_response(s, 0, true);
		return;
	}
	keep = rq.minor == 1 ? !rq.conn_close :
	       rq.conn_keep_alive && !rq.conn_close;
	close = !keep;
	body = rq.has_length ? rq.length : 0;

	if (rq.transfer_encoding) {
		/* RFC 9112 6.1: a transfer coding we do not implement. */
		send_error(s, &rq, 501, true, NULL);
		after_response(s, 0, true);
		return;
	}
	/*
	 * A client that waits for "100 Continue" may never send the body of a
	 * request we refuse: close rather than wait for it (RFC 9110 10.1.1).
	 */
	unread_close = close || (rq.expect_continue && body > 0);

	if (strcmp(rq.method, "GET") == 0 || strcmp(rq.method, "HEAD") == 0) {
		close = serve_static(s, &rq, unread_close);
		after_response(s, body, close);
		return;
	}
	if (strcmp(rq.method, "POST") != 0) {
		send_error(s, &rq, 405, unread_close, "Allow: GET, HEAD, POST\r\n");
		after_response(s, body, unread_close);
		return;
	}
	code = target_path(rq.target, path, sizeof(path));
	if (code == 0 && dm_handler && is_dm_path(path)) {
		dm_start(s, &rq, path, close, unread_close);
		return;
	}
	if (code == 0 && strcmp(path, "/echo") != 0)
		code = 404;
	if (code != 0) {
		close = unread_close || code == 400;
		send_error(s, &rq, code, close, NULL);
		after_response(s, body, close);
		return;
	}
	if (!rq.has_length) {
		/* No Content-Length: no body (RFC 9112 6.3), so still in step. */
		send_error(s, &rq, 411, close, NULL);
		after_response(s, 0, close);
		return;
	}
	if (rq.length > SCWS_MAX_BODY) {
		send_error(s, &rq, 413, true, NULL);
		after_response(s, 0, true);
		return;
	}
	if (rq.expect_continue && rq.minor == 1)
		out_str(s, "HTTP/1.1 100 Continue\r\n\r\n");
	send_head(s, &rq, 200, rq.content_type && *rq.content_type ?
		  rq.content_type : "application/octet-stream", rq.length,
		  close, NULL);
	vuicc_verbose("scws: POST %s -> 200, echoing %" PRIu64 " bytes",
		      rq.target, rq.length);
	s->close_after = close;
	s->body_left = rq.length;
	if (rq.length > 0)
		scws_enter(s, SCWS_ECHO);
	else
		request_done(s);
}

/*
 * Collect the head up to its empty line.  Returns the number of bytes used
 * from p; what follows the head is left for the body or the next request.
 */
static size_t
head_feed(struct scws *s, const uint8_t *p, size_t len)
{
	size_t used = 0, room, start, i, end;

	/* RFC 9112 2.2: ignore empty lines before a request-line. */
	if (s->head_len == 0) {
		while (used < len && (p[used] == '\r' || p[used] == '\n'))
			used++;
		if (used == len)
			return used;
	}
	room = SCWS_MAX_HEAD - s->head_len;
	if (room > len - used)
		room = len - used;
	start = s->head_len > 2 ? s->head_len - 2 : 0;
	memcpy(s->head + s->head_len, p + used, room);
	s->head_len += room;
	for (i = start; i < s->head_len; i++) {
		if (s->head[i] != '\n')
			continue;
		if (i + 1 < s->head_len && s->head[i + 1] == '\n')
			end = i + 2;
		else if (i + 2 < s->head_len && s->head[i + 1] == '\r' &&
			 s->head[i + 2] == '\n')
			end = i + 3;
		else
			continue;
		/* Give back what was copied beyond the head. */
		used += room - (s->head_len - end);
		s->head_len = end;
		handle_request(s);
		return used;
	}
	used += room;
	if (s->head_len == SCWS_MAX_HEAD) {
		send_error(s, NULL, 431, true, NULL);
		after_response(s, 0, true);
		return len;
	}
	return used;
}

bool
scws_input(struct scws *s, const uint8_t *p, size_t len)
{
	size_t n;

	while (len > 0 && s->state != SCWS_CLOSED) {
		switch (s->state) {
		case SCWS_HEAD:
			n = head_feed(s, p, len);
			break;
		case SCWS_DM:
			n = s->body_left < len ? (size_t)s->body_left : len;
			memcpy(s->dm_body + s->dm_len, p, n);
			s->dm_len += n;
			s->body_left -= n;
			if (s->body_left == 0)
				dm_answer(s);
			break;
		case SCWS_ECHO:
		case SCWS_DISCARD:
			n = s->body_left < len ? (size_t)s->body_left : len;
			if (s->state == SCWS_ECHO)
				s->out(s->ctx, p, n);
			s->body_left -= n;
			if (s->body_left == 0)
				request_done(s);
			break;
		case SCWS_CLOSED:
		default:
			n = len;
			break;
		}
		p += n;
		len -= n;
	}
	return s->state == SCWS_CLOSED;
}
