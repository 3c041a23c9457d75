/* acl_cmds.c - the ACL categories (7.0.15's list, in its order) and the
 * category bits of every command entry, read once from the command table's
 * acl_categories words. Read-only after acl_cmds_init; any thread. */
#include <string.h>
#include <strings.h>
#include "actors/acl/acl.h"
#include "actors/acl/acl_internal.h"

static const char *const category_names[] = {
    "keyspace", "read", "write", "set", "sortedset", "list", "hash", "string", "bitmap", "hyperloglog", "geo",
    "stream", "pubsub", "admin", "fast", "slow", "blocking", "dangerous", "connection", "transaction", "scripting",
};
#define NCATEGORIES ((int)(sizeof category_names / sizeof category_names[0]))

static uint32_t cmd_cats[ACL_CMD_BITS];

int acl_category_count(void) { return NCATEGORIES; }
const char *acl_category_name(int i) { return i >= 0 && i < NCATEGORIES ? category_names[i] : NULL; }

uint32_t acl_category_bit(const uint8_t *name, size_t len)
{
    for (int i = 0; i < NCATEGORIES; i++)
        if (strlen(category_names[i]) == len && strncasecmp(category_names[i], (const char *)name, len) == 0)
            return 1u << i;
    return 0;
}

bool acl_cmd_listed(int id) { return cmd_all_listed(id); }
bool acl_has_spaces_pub(const uint8_t *s, size_t len) { return acl_has_spaces((const char *)s, len); }
int acl_cmd_count(void) { return cmd_all_count(); }
const cmd_def_t *acl_cmd_at(int id) { return cmd_all_at(id); }
uint32_t acl_cmd_categories(int id) { return id >= 0 && id < ACL_CMD_BITS ? cmd_cats[id] : 0; }

void acl_cmds_init(void)
{
    for (int id = 0; id < cmd_all_count(); id++) {
        const char *p = cmd_all_at(id)->acl_categories;
        uint32_t m = 0;
        while (p && *p) {
            while (*p == ' ') p++;
            const char *e = p;
            while (*e && *e != ' ') e++;
            m |= acl_category_bit((const uint8_t *)p, (size_t)(e - p));
            p = e;
        }
        cmd_cats[id] = m;
    }
}
