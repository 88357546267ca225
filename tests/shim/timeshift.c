/* LD_PRELOAD shim for tests: shifts the wall clock (gettimeofday, clock_gettime REALTIME) of a server
 * by an offset in microseconds that the test changes at run time. The offset is the first 8 bytes
 * (native-endian int64) of the file named by TIMESHIFT_FILE, mapped shared, so a write by the test is
 * seen at once. Monotonic clocks are untouched. No allocation (libfaketime clashes with jemalloc). */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static volatile int64_t *offset_us;
static int tried;

static int64_t shift(void) {
    if (!tried) {
        tried = 1;
        const char *f = getenv("TIMESHIFT_FILE");
        if (f) {
            int fd = open(f, O_RDONLY);
            if (fd >= 0) {
                void *p = mmap(0, sizeof(int64_t), PROT_READ, MAP_SHARED, fd, 0);
                if (p != MAP_FAILED) offset_us = p;
                close(fd);
            }
        }
    }
    return offset_us ? *offset_us : 0;
}

int gettimeofday(struct timeval *restrict tv, void *restrict tz) {
    static int (*real)(struct timeval *, void *);
    if (!real) real = (int (*)(struct timeval *, void *))dlsym(RTLD_NEXT, "gettimeofday");
    int r = real(tv, tz);
    if (r == 0 && tv) {
        int64_t us = (int64_t)tv->tv_sec * 1000000 + tv->tv_usec + shift();
        tv->tv_sec = us / 1000000;
        tv->tv_usec = us % 1000000;
    }
    return r;
}

int clock_gettime(clockid_t id, struct timespec *ts) {
    static int (*real)(clockid_t, struct timespec *);
    if (!real) real = (int (*)(clockid_t, struct timespec *))dlsym(RTLD_NEXT, "clock_gettime");
    int r = real(id, ts);
    if (r == 0 && ts && (id == CLOCK_REALTIME || id == CLOCK_REALTIME_COARSE)) {
        int64_t ns = (int64_t)ts->tv_sec * 1000000000 + ts->tv_nsec + shift() * 1000;
        ts->tv_sec = ns / 1000000000;
        ts->tv_nsec = ns % 1000000000;
    }
    return r;
}

time_t time(time_t *t) {
    struct timeval tv;
    gettimeofday(&tv, 0);
    if (t) *t = tv.tv_sec;
    return tv.tv_sec;
}
