/* menu.c: the engine of declared USSD menus (menu.h). A session's whole
 * state is one node index, so the gateway serves a million dialogues from
 * the configuration alone; walk() replays a whole input path for the
 * stateless HTTP convention. Pure computation: no env, no allocation. */
#include "core/ussd/menu.h"

#include <stdio.h>

/* Appends s to out->text, cut at a UTF-8 boundary when it does not fit. */
static void out_put(struct ussd_menu_out *out, const char *s, size_t n)
{
	size_t room = sizeof(out->text) - 1 - out->len;
	if (n > room) {
		n = room;
		while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
			n--; /* s[n] continues a character: do not split it */
	}
	memcpy(out->text + out->len, s, n);
	out->len += n;
	out->text[out->len] = '\0';
}

/* The node's text with every "{input}" replaced by input. */
static void out_node(struct ussd_menu_out *out, const struct ussd_menu_node *n, struct sy_str input)
{
	static const char tag[] = "{input}";
	const char *p = n->text;
	const char *hit;
	while ((hit = strstr(p, tag)) != NULL) {
		out_put(out, p, (size_t)(hit - p));
		out_put(out, input.p, input.len);
		p = hit + sizeof(tag) - 1;
	}
	out_put(out, p, strlen(p));
}

static void out_reset(struct ussd_menu_out *out)
{
	out->end = false;
	out->invalid = false;
	out->len = 0;
	out->text[0] = '\0';
}

static void render(const struct ussd_menu_cfg *m, uint16_t node, struct sy_str input, struct ussd_menu_out *out)
{
	SY_ASSERT(node < m->node_n);
	const struct ussd_menu_node *n = &m->nodes[node];
	out_reset(out);
	out->end = n->kind == USSD_NODE_END;
	out_node(out, n, input);
}

void ussd_menu_begin(const struct ussd_menu_cfg *m, uint16_t *node, struct ussd_menu_out *out)
{
	*node = m->start;
	render(m, m->start, SY_STR(""), out);
}

/* Where input leads from screen n: an option's node, the free-text node,
 * or -1 (invalid). An empty input is never free text: a handset that
 * sends nothing has chosen nothing. */
static int32_t step(const struct ussd_menu_node *n, struct sy_str input)
{
	for (uint32_t i = 0; i < n->opt_n; i++)
		if (sy_str_eq(input, sy_str_from(n->opt_key[i])))
			return n->opt_next[i];
	return input.len > 0 ? n->any_next : -1;
}

/* The screen again after an invalid input, with invalid_text before it;
 * shown_with is the input "{input}" stands for in that screen. */
static void render_invalid(const struct ussd_menu_cfg *m, uint16_t node, struct sy_str shown_with,
			   struct ussd_menu_out *out)
{
	out_reset(out);
	out->invalid = true;
	out_put(out, m->invalid_text, strlen(m->invalid_text));
	out_put(out, "\n", 1);
	out_node(out, &m->nodes[node], shown_with);
}

void ussd_menu_input(const struct ussd_menu_cfg *m, uint16_t *node, struct sy_str input, struct ussd_menu_out *out)
{
	SY_ASSERT(*node < m->node_n);
	const struct ussd_menu_node *n = &m->nodes[*node];
	SY_ASSERT(n->kind == USSD_NODE_SCREEN); /* after an END the dialogue is over */
	input = sy_str_trim_blank(input);
	int32_t next = step(n, input);
	if (next < 0) {
		/* The input that led to this screen is not kept (one index
		 * per session): "{input}" shows as nothing when it is re-shown. */
		render_invalid(m, *node, SY_STR(""), out);
		return;
	}
	*node = (uint16_t)next;
	render(m, *node, input, out);
}

void ussd_menu_walk(const struct ussd_menu_cfg *m, struct sy_str path, struct ussd_menu_out *out)
{
	uint16_t node = m->start;
	struct sy_str led_by = SY_STR(""); /* the input that led to node */
	render(m, node, led_by, out);
	const char *p = path.p, *end = path.p + path.len;
	while (path.len > 0 && !out->end) {
		const char *star = memchr(p, '*', (size_t)(end - p));
		const char *stop = star ? star : end;
		struct sy_str input = sy_str_trim_blank((struct sy_str){p, (size_t)(stop - p)});
		int32_t next = step(&m->nodes[node], input);
		if (next < 0) {
			render_invalid(m, node, led_by, out);
		} else {
			node = (uint16_t)next;
			led_by = input;
			render(m, node, led_by, out);
		}
		if (star == NULL)
			break;
		p = star + 1;
	}
}

/* ---- check ---- */

/* Code points of valid UTF-8, or -1. */
static int64_t utf8_chars(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	int64_t n = 0;
	while (*p) {
		size_t more = *p < 0x80		    ? 0
			      : (*p & 0xE0) == 0xC0 ? 1
			      : (*p & 0xF0) == 0xE0 ? 2
			      : (*p & 0xF8) == 0xF0 ? 3
						    : 9;
		if (more == 9 || (more == 1 && *p < 0xC2))
			return -1;
		p++;
		for (size_t i = 0; i < more; i++, p++)
			if ((*p & 0xC0) != 0x80)
				return -1;
		n++;
	}
	return n;
}

bool ussd_menu_text_ok(const char *text)
{
	int64_t n = utf8_chars(text);
	return n >= 0 && n <= USSD_MENU_CHARS_MAX;
}

static enum sy_rc bad(int32_t *at, int32_t node, char *err, size_t errlen, const char *fmt, const char *a,
		      const char *b)
{
	*at = node;
	if (err != NULL && errlen > 0)
		snprintf(err, errlen, fmt, a, b);
	return SY_ERR_INVAL;
}

/* Each node's own fields: kind, targets in range, text. */
static enum sy_rc check_nodes(const struct ussd_menu_cfg *m, int32_t *at, char *err, size_t errlen)
{
	for (uint16_t i = 0; i < m->node_n; i++) {
		const struct ussd_menu_node *n = &m->nodes[i];
		const char *what = n->kind == USSD_NODE_END ? "end" : "screen";
		if (n->kind != USSD_NODE_SCREEN && n->kind != USSD_NODE_END)
			return bad(at, i, err, errlen, "menu '%s': '%s' is used but never declared (screen or end)",
				   m->name, n->name);
		if (n->kind == USSD_NODE_END && (n->opt_n > 0 || n->any_next >= 0))
			return bad(at, i, err, errlen, "menu '%s': end '%s' cannot have options or input", m->name,
				   n->name);
		if (n->opt_n > USSD_MENU_OPTS_MAX || n->any_next >= (int32_t)m->node_n || n->any_next < -1)
			return bad(at, i, err, errlen, "menu '%s': screen '%s' leads out of the menu", m->name,
				   n->name);
		for (uint32_t o = 0; o < n->opt_n; o++)
			if (n->opt_next[o] >= m->node_n || n->opt_key[o][0] == '\0')
				return bad(at, i, err, errlen, "menu '%s': screen '%s' has a bad option", m->name,
					   n->name);
		if (!ussd_menu_text_ok(n->text) || n->text[0] == '\0') {
			*at = i;
			if (err != NULL && errlen > 0)
				snprintf(err, errlen,
					 "menu '%s': %s '%s' text is empty, not UTF-8 or over %d characters", m->name,
					 what, n->name, USSD_MENU_CHARS_MAX);
			return SY_ERR_INVAL;
		}
	}
	return SY_OK;
}

/* Marks the nodes reachable from start. */
static void reach_from_start(const struct ussd_menu_cfg *m, bool *seen)
{
	uint16_t stack[USSD_MENU_NODES_MAX], top = 0;
	seen[m->start] = true;
	stack[top++] = m->start;
	while (top > 0) {
		const struct ussd_menu_node *n = &m->nodes[stack[--top]];
		for (int32_t o = -1; o < (int32_t)n->opt_n; o++) {
			int32_t next = o < 0 ? n->any_next : n->opt_next[o];
			if (next >= 0 && !seen[next]) {
				seen[next] = true;
				stack[top++] = (uint16_t)next; /* each node pushed once: top <= node_n */
			}
		}
	}
}

/* Marks the nodes from which an END can be reached (a fixpoint: at most
 * node_n rounds, each adding one node or finishing). */
static void reach_end(const struct ussd_menu_cfg *m, bool *ends)
{
	bool changed = true;
	for (uint16_t i = 0; i < m->node_n; i++)
		ends[i] = m->nodes[i].kind == USSD_NODE_END;
	for (uint32_t round = 0; changed && round <= m->node_n; round++) {
		changed = false;
		for (uint16_t i = 0; i < m->node_n; i++) {
			const struct ussd_menu_node *n = &m->nodes[i];
			for (int32_t o = -1; !ends[i] && o < (int32_t)n->opt_n; o++) {
				int32_t next = o < 0 ? n->any_next : n->opt_next[o];
				if (next >= 0 && ends[next])
					ends[i] = changed = true;
			}
		}
	}
}

enum sy_rc ussd_menu_check_at(const struct ussd_menu_cfg *m, int32_t *at, char *err, size_t errlen)
{
	*at = -1;
	if (m->node_n == 0 || m->node_n > USSD_MENU_NODES_MAX)
		return bad(at, -1, err, errlen, "menu '%s' has no screens%s", m->name, "");
	if (m->start >= m->node_n)
		return bad(at, -1, err, errlen, "menu '%s': start is not one of its screens%s", m->name, "");
	if (!ussd_menu_text_ok(m->invalid_text))
		return bad(at, -1, err, errlen, "menu '%s': invalid text is not UTF-8 or too long%s", m->name, "");
	enum sy_rc rc = check_nodes(m, at, err, errlen);
	if (rc != SY_OK)
		return rc;
	bool seen[USSD_MENU_NODES_MAX] = {0}, ends[USSD_MENU_NODES_MAX];
	reach_from_start(m, seen);
	reach_end(m, ends);
	for (uint16_t i = 0; i < m->node_n; i++) {
		if (!seen[i])
			return bad(at, i, err, errlen, "menu '%s': '%s' cannot be reached from the start", m->name,
				   m->nodes[i].name);
		if (!ends[i])
			return bad(at, i, err, errlen, "menu '%s': screen '%s' never leads to an end", m->name,
				   m->nodes[i].name);
	}
	return SY_OK;
}

enum sy_rc ussd_menu_check(const struct ussd_menu_cfg *m, char *err, size_t errlen)
{
	int32_t at;
	return ussd_menu_check_at(m, &at, err, errlen);
}
