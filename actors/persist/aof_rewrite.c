/* aof_rewrite.c - BGREWRITEAOF and CONFIG SET appendonly (see aof.h). */
#include <stdatomic.h>
#include "actors/persist/aof_internal.h"

_Atomic int g_aof_rewriting;

void aof_actor_switch(bool on);
void aof_rewrite_on_config(bool want_on);
void aof_rewrite_cron(void);

void aof_rewrite_on_config(bool want_on)
{
    if (!want_on) aof_actor_switch(false);
}

void aof_rewrite_cron(void) {}
