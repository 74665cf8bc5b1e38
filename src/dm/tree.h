/* SPDX-License-Identifier: MIT */
/*
 * The OMA DM 1.2 management tree (OMA-TS-DM_TND-V1_2, OMA-TS-DM_StdObj-V1_2).
 *
 * Nodes are addressed by URIs such as "./DevInfo/DevId" (the leading "./" is
 * optional).  Every operation takes the ServerID of the server doing it and
 * returns the SyncML status code the session puts in its Status element
 * (enum dm_tree_status).  A NULL ServerID is the device itself (bootstrap,
 * configuration, D-Bus): it bypasses ACLs but not the structural rules.
 *
 * Pointers handed out by the tree (dm_tree_value.data, .type) stay valid
 * until the next call that changes the tree or reads another value.
 */
#ifndef DMSCGW_DM_TREE_H
#define DMSCGW_DM_TREE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Limits, also published in ./DevDetail/URI (DM_StdObj 5.3.2). */
#define DM_TREE_MAX_URI		1024	/* MaxTotLen */
#define DM_TREE_MAX_SEG		64	/* MaxSegLen */
#define DM_TREE_MAX_DEPTH	32	/* MaxDepth, in segments below "." */
#define DM_TREE_VALUE_MAX	(1024 * 1024)	/* default per-leaf value bound */
#define DM_TREE_NODES_MAX	10000	/* default node count bound */
#define DM_TREE_MAX_ACL		4096
#define DM_TREE_MAX_TYPE	255	/* MIME type */
#define DM_TREE_MAX_TITLE	255

/* Default ACL of "." (DM_TND 7.7.1.2: Add for every server, Get too). */
#define DM_TREE_ROOT_ACL	"Add=*&Get=*"

/*
 * AppAddr of the DM_SC server account (OMA-TS-DM_SC 8.1, table 2:
 * "https://{SCWS@}/OMA/DM").  The table writes the IPv6 loopback as
 * "0.0.0.0.0.0.0.1", which is no valid IPv6 literal; the RFC 3986 form of ::1
 * is used instead.  The TCP/IP row is the same for IPv4 and IPv6.
 */
#define DM_SC_APPADDR_BIP_IPV4	"https://127.0.0.1:4116/OMA/DM"
#define DM_SC_APPADDR_BIP_IPV6	"https://[::1]:4116/OMA/DM"
#define DM_SC_APPADDR_TCPIP	"https://localuicc:443/OMA/DM"
#define DM_SC_PORT_BIP		4116
#define DM_SC_PORT_TCPIP	443

/* SyncML status codes (OMA-TS-DM_RepPro 1.2, clause 10) that the tree uses. */
enum dm_tree_status {
	DM_TREE_OK = 200,
	DM_TREE_BAD_REQUEST = 400,	/* malformed URI, ACL, value for its Format */
	DM_TREE_NOT_FOUND = 404,
	DM_TREE_NOT_ALLOWED = 405,	/* permanent node, Add under a leaf, ... */
	DM_TREE_NOT_SUPPORTED = 406,	/* optional feature: Exec with no handler, ... */
	DM_TREE_TOO_LARGE = 413,	/* value or property longer than the bound */
	DM_TREE_URI_TOO_LONG = 414,	/* MaxTotLen, MaxSegLen or MaxDepth exceeded */
	DM_TREE_BAD_FORMAT = 415,	/* Format not known */
	DM_TREE_EXISTS = 418,
	DM_TREE_DEVICE_FULL = 420,	/* node count bound reached */
	DM_TREE_PERMISSION = 425,
	DM_TREE_FAILED = 500,		/* out of memory, nested Atomic, ... */
};

/* Format property values (OMA SyncML MetInf 1.2, DM_TND 7.7.2). */
enum dm_tree_format {
	DM_TREE_FMT_CHR,
	DM_TREE_FMT_INT,
	DM_TREE_FMT_BOOL,
	DM_TREE_FMT_BIN,
	DM_TREE_FMT_NODE,
	DM_TREE_FMT_B64,
	DM_TREE_FMT_XML,
	DM_TREE_FMT_NULL,
	DM_TREE_FMT_FLOAT,
	DM_TREE_FMT_DATE,
	DM_TREE_FMT_TIME,
};

/* "chr", "node"...; NULL for an out-of-range value. */
const char *dm_tree_format_name(enum dm_tree_format f);
/* Returns 0 and sets *f, or -EINVAL for a name that is not a Format. */
int dm_tree_format_parse(const char *name, enum dm_tree_format *f);

struct dm_tree;

/* Values of the standard objects (NULL means empty). */
struct dm_tree_config {
	const char *devid;		/* ./DevInfo/DevId, e.g. "IMEI:..." */
	const char *manufacturer;	/* ./DevInfo/Man */
	const char *model;		/* ./DevInfo/Mod */
	const char *lang;		/* ./DevInfo/Lang; NULL: "en-US" */
	const char *devtyp;		/* ./DevDetail/DevTyp */
	const char *oem;		/* ./DevDetail/OEM */
	const char *fwv, *swv, *hwv;	/* ./DevDetail/FwV, SwV, HwV */
	const char *root_acl;		/* NULL: DM_TREE_ROOT_ACL */
	size_t max_value;		/* 0: DM_TREE_VALUE_MAX */
	size_t max_nodes;		/* 0: DM_TREE_NODES_MAX */
};

/* What a Get returns. */
/*
 * What dm_tree_get() hands out is borrowed, never copied: type and data
 * point into the tree (a node's Type and value, or a children list the tree
 * keeps), or to a constant.  They stay valid until the next call on the
 * same tree that changes it (Add, Replace, Delete, Copy, Exec, property
 * Replace, Atomic rollback, the DMAcc helpers, dm_tree_free) or that is
 * another dm_tree_get / dm_tree_get_for_display (an interior node's list
 * is replaced by the next Get).  A caller that keeps a value longer, or
 * interleaves two Gets, copies it first.
 */
struct dm_tree_value {
	enum dm_tree_format format;
	const char *type;		/* MIME type, "" when none */
	const uint8_t *data;		/* leaf value; interior: children "a/b/c";
					   not NUL-terminated */
	size_t len;
};

/*
 * A new tree with "." and the standard objects ./DevInfo, ./DevDetail,
 * ./DMAcc and ./Inbox (all permanent: Delete gets 405).  NULL when out of
 * memory or when cfg->root_acl is malformed.
 */
struct dm_tree *dm_tree_new(const struct dm_tree_config *cfg);
void dm_tree_free(struct dm_tree *t);

/*
 * Commands (DM_RepPro 6.6).  server is the authenticated ServerID, NULL for
 * the device itself.  ACL rules (DM_TND 7.7.1): an empty ACL inherits the
 * nearest ancestor's whole ACL; Get needs Get on the node, Add needs Add on
 * the parent, Replace/Delete/Exec need that right on the node, Copy needs Get
 * on the source and Add on the target's parent (Replace on the target when it
 * exists).
 */
int dm_tree_get(struct dm_tree *t, const char *server, const char *uri,
		struct dm_tree_value *out);
/* As dm_tree_get, but AAuthSecret leaves read as "********" (for display). */
int dm_tree_get_for_display(struct dm_tree *t, const char *server,
			    const char *uri, struct dm_tree_value *out);
/*
 * Child names joined by '/', malloc'd NUL-terminated into *out (the
 * caller's, unlike dm_tree_get's list); a leaf is 405.
 */
int dm_tree_children(struct dm_tree *t, const char *server, const char *uri,
		     char **out);
/*
 * Add a node.  The parent must exist (404) and be interior (405); missing
 * ancestors are not created.  format DM_TREE_FMT_NODE adds an interior node
 * (len must be 0).  type may be NULL.  The new node's ACL is empty (inherits)
 * unless the server has no Replace right on the parent: then it gets
 * Add, Delete, Get and Replace for that server, so that it keeps control of
 * what it created (DM_TND 7.7.1.4).
 */
int dm_tree_add(struct dm_tree *t, const char *server, const char *uri,
		enum dm_tree_format format, const char *type,
		const uint8_t *value, size_t len);
/* Replace a leaf's value (interior: 405).  type NULL keeps the old Type. */
int dm_tree_replace(struct dm_tree *t, const char *server, const char *uri,
		    enum dm_tree_format format, const char *type,
		    const uint8_t *value, size_t len);
/* Delete a node and its subtree; 405 when it or a descendant is permanent. */
int dm_tree_delete(struct dm_tree *t, const char *server, const char *uri);
/* Copy a leaf (an interior source is 406: optional in DM 1.2). */
int dm_tree_copy(struct dm_tree *t, const char *server, const char *target,
		 const char *source);

typedef int dm_tree_exec_fn(struct dm_tree *t, const char *server,
			    const char *uri, const uint8_t *data, size_t len,
			    void *arg);
/* Register the Exec handler of an existing node (NULL removes it). */
int dm_tree_set_exec(struct dm_tree *t, const char *uri, dm_tree_exec_fn *fn,
		     void *arg);
/* 406 unless a handler is registered; otherwise the handler's status. */
int dm_tree_exec(struct dm_tree *t, const char *server, const char *uri,
		 const uint8_t *data, size_t len);
/* 200 when server may Exec uri (the node exists, an ACL grants it). */
int dm_tree_exec_check(struct dm_tree *t, const char *server, const char *uri);
/*
 * A device-defined executable node (an Exec agent's, dm/agents.h): create
 * it where missing (a leaf of Format null, or an interior node, its
 * missing ancestors interior) and make its ACL grant Exec to every server,
 * keeping what it granted: an empty ACL becomes the inherited one with
 * "&Exec=*" (the nodes below an interior one inherit it).  200 with
 * *changed when the tree changed; 405 for "." or under a leaf, 413 when
 * the ACL would be too long.
 */
int dm_tree_make_executable(struct dm_tree *t, const char *uri, bool interior,
			    bool *changed);

/*
 * Properties (DM_TND 7.7).  dm_tree_split_prop splits "uri?prop=Name" into
 * uri (copied into buf) and *prop (pointing into target, NULL when there is
 * none); "?list=" is 406.
 *
 * dm_tree_prop_get: ACL, Format, Type, Size (leaves), Name, Title, TStamp
 * (ISO 8601 basic UTC "20240101T120000Z"), VerNo; *out is malloc'd.
 * dm_tree_prop_replace: ACL (Replace on the parent, or on the node itself
 * when it is interior, DM_TND 7.7.1.3; the root ACL keeps "Add=*", 7.7.1.2),
 * Name (renames; Replace on the node; 418 on a sibling clash), Title.  Other
 * properties are 405.
 */
int dm_tree_split_prop(const char *target, char *buf, size_t cap,
		       const char **prop);
int dm_tree_prop_get(struct dm_tree *t, const char *server, const char *uri,
		     const char *prop, char **out);
int dm_tree_prop_replace(struct dm_tree *t, const char *server,
			 const char *uri, const char *prop, const char *value);

/*
 * Atomic (DM_RepPro 6.6.3): begin takes a snapshot of the whole tree;
 * rollback restores it exactly (values, properties, VerNo and TStamp);
 * commit drops it.  Nesting is 500 (DM 1.2 forbids nested Atomic), and so is
 * commit or rollback outside an Atomic.
 */
int dm_tree_atomic_begin(struct dm_tree *t);
int dm_tree_atomic_commit(struct dm_tree *t);
int dm_tree_atomic_rollback(struct dm_tree *t);
bool dm_tree_in_atomic(const struct dm_tree *t);

/*
 * DM account (DM_StdObj 1.2 DMAcc, w7), in account.c.  The subtree ./DMAcc/<id> gets the
 * ACL "Get=<server_id>&Replace=<server_id>".  Secrets are plain text;
 * the nonces (AAuthData) are kept as the base64 text stored in the tree,
 * callers decode them.
 */
struct dm_account_auth {
	char type[16];		/* AAuthType: BASIC, DIGEST, HMAC; "" = absent */
	char name[128];		/* AAuthName */
	char secret[128];	/* AAuthSecret */
	char data[256];		/* AAuthData: nonce as base64 text */
};

struct dm_account {
	char id[DM_TREE_MAX_SEG + 1];	/* node name under ./DMAcc */
	char server_id[128];		/* ServerID */
	char name[128];			/* Name */
	char pref_con_ref[256];		/* PrefConRef */
	char addr[256];			/* AppAddr/1/Addr */
	char addr_type[16];		/* AppAddr/1/AddrType, e.g. "URI" */
	unsigned port;			/* AppAddr/1/Port/1/PortNbr; 0 = none */
	char aauth_pref[16];		/* AAuthPref */
	struct dm_account_auth client;	/* AppAuth with AAuthLevel CLCRED */
	struct dm_account_auth server;	/* AppAuth with AAuthLevel SRVCRED */
};

/* 200, 418 if ./DMAcc/<id> exists, 400 for a bad id or ServerID. */
int dm_tree_account_add(struct dm_tree *t, const struct dm_account *a);
/* 200 with *out filled, 404 when no account has that ServerID. */
int dm_tree_account_find(struct dm_tree *t, const char *server_id,
			 struct dm_account *out);
/* Store a NextNonce (base64 text) for level "CLCRED" or "SRVCRED". */
int dm_tree_account_set_nonce(struct dm_tree *t, const char *server_id,
			      const char *level, const char *nonce_b64);

/*
 * The file (tree_file.c).  The canonical serialisation (the body of the
 * persistence format); *out is malloc'd.  0 or -ENOMEM.
 */
int dm_tree_serialize(const struct dm_tree *t, uint8_t **out, size_t *len);

/*
 * Persistence.  dm_tree_save writes "<path>.tmp" (O_EXCL, O_NOFOLLOW, 0600),
 * fsyncs it, renames it over path and fsyncs the directory: a crash leaves
 * the old or the new file.  Returns 0 or a negative errno (-EBUSY inside an
 * Atomic).
 */
int dm_tree_save(const struct dm_tree *t, const char *path);
/*
 * The file half of dm_tree_save, for bytes dm_tree_serialize made: it
 * blocks on the disk, so the daemon runs it off the loop (dm/store.h).
 */
int dm_tree_write(const char *path, const uint8_t *data, size_t len);

enum dm_tree_load_result {
	DM_TREE_LOADED = 0,	/* *out is the stored tree */
	DM_TREE_FRESH = 1,	/* no file: *out is a new tree */
	DM_TREE_CORRUPT = 2,	/* file moved to "<path>.corrupt-<time>", named
				 * in err; *out is a new tree */
};

/*
 * Load path strictly (magic and version, bounded lengths, SHA-256, structure).
 * After a load the device-owned values of ./DevInfo and ./DevDetail are
 * refreshed from cfg.  Returns an enum dm_tree_load_result, or a negative
 * errno (file unreadable, out of memory) with *out NULL and the file left
 * alone.  err gets a one-line reason for anything but DM_TREE_LOADED.
 */
int dm_tree_load(const struct dm_tree_config *cfg, const char *path,
		 struct dm_tree **out, char *err, size_t errlen);

/*
 * Test hook, called at each step of dm_tree_save.  The library's definition
 * is weak and does nothing; a test defines its own to stop the process at a
 * chosen step.
 */
enum dm_tree_save_step {
	DM_TREE_SAVE_PARTIAL,	/* half of the temporary file written */
	DM_TREE_SAVE_WRITTEN,	/* temporary file written and fsync'd */
	DM_TREE_SAVE_RENAMED,	/* renamed, directory not yet fsync'd */
};
void dm_tree_save_hook(enum dm_tree_save_step step);

#endif
