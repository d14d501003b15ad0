/*
 * The yardstick of issue 10: `crew logstats` as a plain C program on ONE core. It maps each
 * file, finds every line end with memchr ("\n", or a "\r" before it), reads the client at
 * the line start with crew's rule as far as IPv4 goes (the text before the first " - ", else
 * the first token; its first comma-separated element, trimmed; a dotted quad without leading
 * zeros), and keeps the distinct addresses in an open-addressing uint32 set, one per file,
 * merged into one for all.
 * Lines whose client is not IPv4 (IPv6 or garbage) are counted as "other", not as clients.
 *
 *   cc -O2 -o logstats-ref scripts/bench/logstats-ref.c && ./logstats-ref FILE...
 *
 * Prints {"files": [{"file", "total", "ipv4", "other"}], "all": {...}} on stdout.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define EMPTY 0xffffffffu
#define BLANK -1
#define OTHER -2

typedef struct {
  uint32_t *keys;
  size_t slots, size;
  unsigned shift;
  int broadcast; /* 255.255.255.255 is EMPTY's bit pattern: kept on the side */
} set_t;

static void set_init(set_t *s, size_t slots) {
  size_t n = 4096;
  while (n < slots) n <<= 1;
  s->keys = malloc(n * sizeof *s->keys);
  memset(s->keys, 0xff, n * sizeof *s->keys);
  s->slots = n;
  s->size = 0;
  s->shift = 32 - __builtin_ctzl(n);
  s->broadcast = 0;
}

static void set_add(set_t *s, uint32_t ip);

static void set_grow(set_t *s, size_t slots) {
  uint32_t *old = s->keys;
  size_t n = s->slots;
  int broadcast = s->broadcast;
  set_init(s, slots);
  s->broadcast = broadcast;
  for (size_t i = 0; i < n; i++)
    if (old[i] != EMPTY) set_add(s, old[i]);
  free(old);
}

static void set_add(set_t *s, uint32_t ip) {
  if (ip == EMPTY) {
    s->broadcast = 1;
    return;
  }
  size_t mask = s->slots - 1, slot = (uint32_t)(ip * 0x9e3779b1u) >> s->shift;
  for (;;) {
    uint32_t key = s->keys[slot];
    if (key == ip) return;
    if (key == EMPTY) break;
    slot = (slot + 1) & mask;
  }
  s->keys[slot] = ip;
  if (++s->size * 4 > s->slots * 3) set_grow(s, s->slots * 2);
}

static size_t set_count(const set_t *s) { return s->size + (size_t)s->broadcast; }

static int is_space(unsigned char c) { return c == ' ' || (c >= 9 && c <= 13); }

/* A dotted quad with octets 0-255 and no leading zeros, or -1. */
static int64_t parse_ipv4(const unsigned char *p, const unsigned char *end) {
  uint32_t value = 0, octet = 0;
  int digits = 0, dots = 0;
  for (; p < end; p++) {
    unsigned c = *p;
    if (c >= '0' && c <= '9') {
      if (digits > 0 && octet == 0) return -1;
      octet = octet * 10 + (c - '0');
      if (octet > 255) return -1;
      digits++;
    } else if (c == '.') {
      if (digits == 0 || dots == 3) return -1;
      value = value * 256 + octet;
      octet = 0;
      digits = 0;
      dots++;
    } else {
      return -1;
    }
  }
  if (dots != 3 || digits == 0) return -1;
  return (int64_t)(value * 256 + octet);
}

/* The client of the line [p, end): an IPv4 address, BLANK, or OTHER. */
static int64_t classify(const unsigned char *p, const unsigned char *end) {
  const unsigned char *line = p, *s = p;
  while (s < end && is_space(*s)) s++;
  if (s == end) return BLANK;
  /* The common line: an address followed by " - " or ",", read in one pass. */
  const unsigned char *q = s;
  while (q < end && ((*q >= '0' && *q <= '9') || *q == '.')) q++;
  if (q < end && (*q == ',' || (*q == ' ' && q + 2 < end && q[1] == '-' && q[2] == ' '))) {
    int64_t v4 = parse_ipv4(s, q);
    if (v4 >= 0) return v4;
  }
  const unsigned char *field = NULL;
  for (const unsigned char *i = line; i + 2 < end; i++) {
    if (i[0] == ' ' && i[1] == '-' && i[2] == ' ') {
      field = i;
      break;
    }
  }
  if (field && field < s) return OTHER;
  if (!field) {
    field = s;
    while (field < end && !is_space(*field)) field++;
  }
  const unsigned char *e = s;
  while (e < field && *e != ',') e++;
  while (e > s && is_space(e[-1])) e--;
  if (e == s) return OTHER;
  int64_t v4 = parse_ipv4(s, e);
  return v4 >= 0 ? v4 : OTHER;
}

int main(int argc, char **argv) {
  set_t all;
  set_init(&all, 0);
  long all_total = 0, all_other = 0;
  printf("{\"files\": [");
  for (int f = 1; f < argc; f++) {
    int fd = open(argv[f], O_RDONLY);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
      perror(argv[f]);
      return 1;
    }
    const unsigned char *data = NULL;
    if (st.st_size > 0) {
      data = mmap(NULL, st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
      if (data == MAP_FAILED) {
        perror(argv[f]);
        return 1;
      }
      madvise((void *)data, st.st_size, MADV_SEQUENTIAL);
    }
    const unsigned char *p = data, *end = data + st.st_size;
    set_t ips;
    set_init(&ips, 0);
    long total = 0, other = 0;
    while (p < end) {
      /* A line ends at "\n" or "\r" (crew's rule: CRLF is a line end and an empty line). */
      const unsigned char *nl = memchr(p, '\n', end - p);
      if (!nl) nl = end;
      const unsigned char *cr = memchr(p, '\r', nl - p);
      if (cr) nl = cr;
      int64_t kind = classify(p, nl);
      if (kind != BLANK) {
        total++;
        if (kind == OTHER) other++;
        else set_add(&ips, (uint32_t)kind);
      }
      p = nl + 1;
    }
    printf("%s{\"file\": \"%s\", \"total\": %ld, \"ipv4\": %zu, \"other\": %ld}",
           f > 1 ? ", " : "", argv[f], total, set_count(&ips), other);
    /* As crew does: per-file sets first, then their union (room made up front). */
    if ((all.size + ips.size) * 4 > all.slots * 3) set_grow(&all, (all.size + ips.size) * 2);
    for (size_t i = 0; i < ips.slots; i++)
      if (ips.keys[i] != EMPTY) set_add(&all, ips.keys[i]);
    if (ips.broadcast) all.broadcast = 1;
    free(ips.keys);
    all_total += total;
    all_other += other;
    if (data) munmap((void *)data, st.st_size);
    close(fd);
  }
  printf("], \"all\": {\"total\": %ld, \"ipv4\": %zu, \"other\": %ld}}\n", all_total,
         set_count(&all), all_other);
  return 0;
}
