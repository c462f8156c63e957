// watchdog-emu: a FUSE file that answers the Linux watchdog ioctls, for tests on machines that
// have no /dev/watchdog, no softdog and no CUSE.
//
//   watchdog-emu --log FILE [--identity S] [--timeout-floor N] MOUNTPOINT
//
// MOUNTPOINT/watchdog then behaves like a watchdog character device as far as a client sees it:
//   - one opener at a time: a second open fails with EBUSY (as watchdog_dev.c's test_and_set_bit);
//   - WDIOC_GETSUPPORT, WDIOC_SETTIMEOUT, WDIOC_GETTIMEOUT, WDIOC_KEEPALIVE;
//   - any write is a keepalive; a 'V' in the written bytes arms the magic close;
//   - release without a preceding 'V' is logged as "release nomagic" (a real device would keep
//     counting down and reset the machine).
// Every call is appended to the log file as one line, so a test can read what happened:
//   open | open EBUSY | getsupport | settimeout <asked> <took> | gettimeout <t> | keepalive |
//   write <n> | release magic | release nomagic
//
// Why this works for a regular FUSE file: the kernel forwards ioctls of a FUSE file to the
// daemon in "restricted" mode (no FUSE_IOCTL_UNRESTRICTED, which only CUSE may use): it reads
// the direction and size from the _IOC bits of cmd and copies that many bytes in (_IOW) and out
// (_IOR). The watchdog ioctls are all well-formed _IOR/_IOWR numbers, so no retry dance is needed.
// The release of a FUSE file is asynchronous: a client's close(2) returns before "release" is
// logged, and a re-open right after close may still see EBUSY until the daemon processed it.

#define FUSE_USE_VERSION 35
#include <fuse.h>
#include <linux/watchdog.h>

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const char *const file_name = "/watchdog";

struct emu {
    pthread_mutex_t lock;
    FILE *log;
    const char *identity;
    int timeout_floor; // the device takes max(asked, floor): hardware with a coarse prescaler
    int timeout;
    int open;          // 1 while a client holds the file
    int expect_close;  // a 'V' was written since the last open
};

static struct emu emu = {.lock = PTHREAD_MUTEX_INITIALIZER, .identity = "appliance-emu", .timeout = 60};

static void log_line(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vfprintf(emu.log, fmt, ap);
    va_end(ap);
    fputc('\n', emu.log);
    fflush(emu.log);
}

static int emu_getattr(const char *path, struct stat *st, struct fuse_file_info *fi) {
    (void)fi;
    memset(st, 0, sizeof *st);
    if (strcmp(path, "/") == 0) {
        st->st_mode = S_IFDIR | 0755;
        st->st_nlink = 2;
        return 0;
    }
    if (strcmp(path, file_name) == 0) {
        st->st_mode = S_IFREG | 0600;
        st->st_nlink = 1;
        st->st_uid = getuid();
        st->st_gid = getgid();
        return 0;
    }
    return -ENOENT;
}

static int emu_readdir(const char *path, void *buf, fuse_fill_dir_t fill, off_t off,
                       struct fuse_file_info *fi, enum fuse_readdir_flags flags) {
    (void)off, (void)fi, (void)flags;
    if (strcmp(path, "/") != 0) return -ENOENT;
    fill(buf, ".", NULL, 0, 0);
    fill(buf, "..", NULL, 0, 0);
    fill(buf, file_name + 1, NULL, 0, 0);
    return 0;
}

static int emu_open(const char *path, struct fuse_file_info *fi) {
    if (strcmp(path, file_name) != 0) return -ENOENT;
    pthread_mutex_lock(&emu.lock);
    if (emu.open) {
        log_line("open EBUSY");
        pthread_mutex_unlock(&emu.lock);
        return -EBUSY;
    }
    emu.open = 1;
    emu.expect_close = 0;
    log_line("open");
    pthread_mutex_unlock(&emu.lock);
    // Every write must reach us at once, never the page cache.
    fi->direct_io = 1;
    fi->nonseekable = 1;
    return 0;
}

static int emu_truncate(const char *path, off_t size, struct fuse_file_info *fi) {
    (void)path, (void)size, (void)fi;
    return 0;
}

static int emu_write(const char *path, const char *buf, size_t size, off_t off, struct fuse_file_info *fi) {
    (void)path, (void)off, (void)fi;
    pthread_mutex_lock(&emu.lock);
    // As watchdog_dev.c: any write pings; a 'V' anywhere in it arms the magic close, and a
    // later write without 'V' disarms it again.
    emu.expect_close = memchr(buf, 'V', size) != NULL;
    log_line("write %zu%s", size, emu.expect_close ? " V" : "");
    pthread_mutex_unlock(&emu.lock);
    return (int)size;
}

static int emu_release(const char *path, struct fuse_file_info *fi) {
    (void)path, (void)fi;
    pthread_mutex_lock(&emu.lock);
    log_line(emu.expect_close ? "release magic" : "release nomagic");
    emu.open = 0;
    emu.expect_close = 0;
    pthread_mutex_unlock(&emu.lock);
    return 0;
}

static int emu_ioctl(const char *path, unsigned int cmd, void *arg, struct fuse_file_info *fi,
                     unsigned int flags, void *data) {
    (void)path, (void)arg, (void)fi;
    if (flags & FUSE_IOCTL_COMPAT) return -ENOSYS;
    int rc = 0;
    pthread_mutex_lock(&emu.lock);
    switch (cmd) {
    case WDIOC_GETSUPPORT: {
        struct watchdog_info info = {.options = WDIOF_SETTIMEOUT | WDIOF_MAGICCLOSE | WDIOF_KEEPALIVEPING,
                                     .firmware_version = 7};
        snprintf((char *)info.identity, sizeof info.identity, "%s", emu.identity);
        memcpy(data, &info, sizeof info);
        log_line("getsupport");
        break;
    }
    case WDIOC_SETTIMEOUT: {
        int asked;
        memcpy(&asked, data, sizeof asked);
        if (asked < 1) {
            rc = -EINVAL;
            log_line("settimeout %d EINVAL", asked);
            break;
        }
        emu.timeout = asked > emu.timeout_floor ? asked : emu.timeout_floor;
        // The kernel writes back the timeout the driver actually took.
        memcpy(data, &emu.timeout, sizeof emu.timeout);
        log_line("settimeout %d %d", asked, emu.timeout);
        break;
    }
    case WDIOC_GETTIMEOUT:
        memcpy(data, &emu.timeout, sizeof emu.timeout);
        log_line("gettimeout %d", emu.timeout);
        break;
    case WDIOC_KEEPALIVE:
        log_line("keepalive");
        break;
    default:
        log_line("ioctl 0x%x ENOTTY", cmd);
        rc = -ENOTTY;
    }
    pthread_mutex_unlock(&emu.lock);
    return rc;
}

static const struct fuse_operations ops = {
    .getattr = emu_getattr,
    .readdir = emu_readdir,
    .open = emu_open,
    .truncate = emu_truncate,
    .write = emu_write,
    .release = emu_release,
    .ioctl = emu_ioctl,
};

static int usage(void) {
    fprintf(stderr, "usage: watchdog-emu --log FILE [--identity S] [--timeout-floor N] MOUNTPOINT\n");
    return 2;
}

int main(int argc, char **argv) {
    const char *log_path = NULL, *mountpoint = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--log") == 0 && i + 1 < argc) log_path = argv[++i];
        else if (strcmp(argv[i], "--identity") == 0 && i + 1 < argc) emu.identity = argv[++i];
        else if (strcmp(argv[i], "--timeout-floor") == 0 && i + 1 < argc) emu.timeout_floor = atoi(argv[++i]);
        else if (argv[i][0] != '-' && mountpoint == NULL) mountpoint = argv[i];
        else return usage();
    }
    if (log_path == NULL || mountpoint == NULL) return usage();
    emu.log = fopen(log_path, "a");
    if (emu.log == NULL) {
        perror(log_path);
        return 1;
    }
    // Foreground, single-threaded: the test owns this process by its PID and the log stays in order.
    char *fuse_argv[] = {argv[0], "-f", "-s", "-o", "fsname=watchdog-emu", (char *)mountpoint, NULL};
    return fuse_main(6, fuse_argv, &ops, NULL);
}
