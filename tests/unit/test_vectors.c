/* test_vectors.c - the captured redis-server 7.0.15 vectors in tests/vectors
 * are the ground truth of the bus and RDB tests, so they must be the bytes
 * that were captured: every file listed in tests/vectors/SHA256SUMS exists
 * and has that SHA-256, and every vector file in the directory is listed (a
 * new vector without a checksum would escape this check). Must never read
 * anything outside tests/vectors. */
#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>
#include "tests/unit/unit.h"

#define MAX_SUMS 128

typedef struct {
    char name[128];
    char hex[65];
} vector_sum_t;

/* Parses SHA256SUMS ("<64 hex>  <name>" per line, sha256sum's text format).
 * Returns the number of entries, or -1 if a line is malformed. */
static int read_sums(vector_sum_t *sums, int cap)
{
    size_t len = 0;
    char *text = (char *)unit_read_file(VECTOR_PATH("SHA256SUMS"), &len);
    if (!text) return -1;
    int n = 0;
    char *save = NULL;
    char *copy = malloc(len + 1);
    if (!copy) { free(text); return -1; }
    memcpy(copy, text, len);
    copy[len] = '\0';
    free(text);
    for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        size_t l = strlen(line);
        if (n == cap || l < 67 || line[64] != ' ' || line[65] != ' ' || l - 66 >= sizeof sums[n].name) {
            n = -1;
            break;
        }
        memcpy(sums[n].hex, line, 64);
        sums[n].hex[64] = '\0';
        memcpy(sums[n].name, line + 66, l - 66 + 1);
        n++;
    }
    free(copy);
    return n;
}

static bool sha256_hex(const unsigned char *buf, size_t len, char out[65])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    if (!EVP_Digest(buf, len, md, &mdlen, EVP_sha256(), NULL) || mdlen != 32) return false;
    for (unsigned i = 0; i < mdlen; i++) snprintf(out + 2 * i, 3, "%02x", md[i]);
    return true;
}

TEST(vectors_sha256sums_match)
{
    vector_sum_t sums[MAX_SUMS];
    int n = read_sums(sums, MAX_SUMS);
    REQUIRE(n > 0);
    for (int i = 0; i < n; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", SHOAL_VECTORS_DIR, sums[i].name);
        size_t len = 0;
        unsigned char *buf = unit_read_file(path, &len);
        if (!buf) {
            unit_fail(__FILE__, __LINE__, path);
            continue;
        }
        char hex[65];
        CHECK(sha256_hex(buf, len, hex));
        if (strcmp(hex, sums[i].hex) != 0) {
            char m[256];
            snprintf(m, sizeof m, "sha256 of %s is %s, SHA256SUMS says %s", sums[i].name, hex, sums[i].hex);
            unit_fail(__FILE__, __LINE__, m);
        }
        free(buf);
    }
}

/* Every vector (.bin, .rdb, .txt) in the directory has a line in SHA256SUMS;
 * README.md, SHA256SUMS and tools/ are documentation, not vectors. */
TEST(vectors_all_listed_in_sha256sums)
{
    vector_sum_t sums[MAX_SUMS];
    int n = read_sums(sums, MAX_SUMS);
    REQUIRE(n > 0);
    DIR *d = opendir(SHOAL_VECTORS_DIR);
    REQUIRE(d != NULL);
    int vectors = 0;
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        const char *dot = strrchr(e->d_name, '.');
        if (!dot || (strcmp(dot, ".bin") && strcmp(dot, ".rdb") && strcmp(dot, ".txt"))) continue;
        vectors++;
        bool listed = false;
        for (int i = 0; i < n && !listed; i++) listed = strcmp(sums[i].name, e->d_name) == 0;
        if (!listed) {
            char m[320];
            snprintf(m, sizeof m, "%s is not in SHA256SUMS", e->d_name);
            unit_fail(__FILE__, __LINE__, m);
        }
    }
    closedir(d);
    CHECK_EQ_INT(vectors, n);
}
