/* Programs that crash in known ways, for the end-to-end tests and benches.
 * Usage: crasher MODE [ARG]. Before crashing, every mode starts three worker
 * threads parked in known functions (park_in_pause, park_in_read,
 * park_in_cond_wait) — unless CRASHER_PARKED=0 is in the environment — and
 * prints "ready <pid> <CLOCK_REALTIME ns>" on stdout just before the crash.
 *
 * Environment: CRASHER_STACK_KB sets the stack size of the "threads" mode's
 * threads (64 KiB by default, so that a thousand fit); CRASHER_NODUMP=1 makes the process non-dumpable first (as a
 * setuid program would be); CRASHER_HOSTILE=1 gives it a hostile name,
 * thread names and an open file whose name is hostile; CRASHER_NAME=NAME
 * sets its comm; CRASHER_WORKDIR is where the hostile-maps mode makes its
 * files (default /tmp).
 *
 * Modes that do not crash, for the debugger (a live process): wait-signal,
 * live N (N more threads ticking in park_in_nanosleep; each line on stdin is
 * answered with "alive <ticks>"), churn (a thread creating and ending
 * threads without pause), nodump (not dumpable), vfork N (the main thread
 * in uninterruptible sleep for N seconds, waiting for a vfork child).
 */
#define _GNU_SOURCE
#include <assert.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define NOINLINE __attribute__((noinline))

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static int never;
static int pipe_fds[2];
volatile int sink;

/* Threads count themselves in on reaching the function they park in. */
static int arrived;
static void arrive(void) { __atomic_add_fetch(&arrived, 1, __ATOMIC_RELEASE); }

NOINLINE void park_in_pause(void) {
  arrive();
  for (;;) pause();
}
NOINLINE void park_in_read(void) {
  char c;
  arrive();
  for (;;) (void)!read(pipe_fds[0], &c, 1);
}
NOINLINE void park_in_cond_wait(void) {
  arrive();
  pthread_mutex_lock(&lock);
  while (!never) pthread_cond_wait(&cond, &lock);
  pthread_mutex_unlock(&lock);
}

static void* pause_main(void* a) {
  (void)a;
  pthread_setname_np(pthread_self(), "parked-pause");
  park_in_pause();
  return 0;
}
static void* read_main(void* a) {
  (void)a;
  pthread_setname_np(pthread_self(), "parked-read");
  park_in_read();
  return 0;
}
static void* cond_main(void* a) {
  (void)a;
  pthread_setname_np(pthread_self(), "parked-cond");
  park_in_cond_wait();
  return 0;
}

static int parked_threads, hostile_threads;
static void start_parked_threads(void) {
  pthread_t t;
  parked_threads = 3;
  (void)!pipe(pipe_fds);
  pthread_create(&t, 0, pause_main, 0);
  pthread_create(&t, 0, read_main, 0);
  pthread_create(&t, 0, cond_main, 0);
}

/* Waits until `threads` threads have reached their parking function, then
 * a little longer for them to block there. */
static void settle(int threads) {
  while (__atomic_load_n(&arrived, __ATOMIC_ACQUIRE) < threads) usleep(1000);
  usleep(20000);
}

static void ready(void) {
  struct timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  printf("ready %d %lld\n", getpid(), (long long)now.tv_sec * 1000000000LL + now.tv_nsec);
  fflush(stdout);
}

/* --- the crashes --- */

NOINLINE void write_through(int* p) {
  *p = 42;
  sink = 1;
}
NOINLINE void null_level3(int* p) {
  write_through(p);
  sink = 3;
}
NOINLINE void null_level2(int* p) {
  null_level3(p);
  sink = 2;
}
NOINLINE void null_level1(void) {
  null_level2(NULL);
  sink = 1;
}

static void* assert_worker_main(void* a) {
  int value = (int)(long)a;
  pthread_setname_np(pthread_self(), "asserter");
  assert(value == 1 && "the worker's value must be 1");
  return 0;
}
NOINLINE void assert_in_worker(void) {
  pthread_t t;
  pthread_create(&t, 0, assert_worker_main, (void*)2L);
  pthread_join(t, 0);
}

NOINLINE int recurse_forever(int depth) {
  volatile char frame[128];
  frame[0] = (char)depth;
  return recurse_forever(depth + 1) + frame[0];
}

NOINLINE int divide(int a, int b) { return a / b; }

NOINLINE void trap_here(void) { __builtin_trap(); }

NOINLINE void touch_truncated_mapping(void) {
  char path[] = "/dev/shm/crasher-sigbus-XXXXXX";
  int fd = mkstemp(path);
  unlink(path);
  (void)!ftruncate(fd, 8192);
  char* p = mmap(0, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  (void)!ftruncate(fd, 0);
  p[4096] = 1; /* beyond the end of the file now */
}

NOINLINE size_t length_of(const char* s) { return strlen(s); }

NOINLINE void call_null_function(void) {
  void (*volatile fn)(void) = 0;
  fn();
}

NOINLINE void jump_to_stack(void) {
  unsigned char code[16] = {0xc3};
  void (*fn)(void) = (void (*)(void))code;
  fn();
}

static inline __attribute__((always_inline)) void store_inlined(int* p) { *p = 7; }
static inline __attribute__((always_inline)) void call_inlined(int* p) {
  store_inlined(p);
  sink = 2;
}
NOINLINE void crash_in_inline(int* p) {
  call_inlined(p);
  sink = 3;
}

NOINLINE void wait_then_crash(void) {
  char c;
  ready();
  (void)!read(0, &c, 1);
  null_level1();
}

NOINLINE void wait_for_signal(void) {
  for (;;) pause();
}

static void* idle_main(void* a) {
  (void)a;
  arrive();
  for (;;) pause();
  return 0;
}

/* --- live processes, for the debugger --- */

static volatile long ticks;

NOINLINE void park_in_nanosleep(void) {
  struct timespec period = {0, 5 * 1000 * 1000};
  arrive();
  for (;;) {
    nanosleep(&period, 0);
    __atomic_add_fetch(&ticks, 1, __ATOMIC_RELAXED);
  }
}

static void* worker_main(void* a) {
  char name[16];
  snprintf(name, sizeof name, "worker-%ld", (long)a);
  pthread_setname_np(pthread_self(), name);
  park_in_nanosleep();
  return 0;
}

static void start_workers(long n) {
  for (long i = 0; i < n; i++) {
    pthread_t t;
    if (pthread_create(&t, 0, worker_main, (void*)i) != 0) abort();
  }
}

/* Answers each line on stdin with the ticks so far: the test's proof that
 * the threads still run. At end of input, waits like wait-signal. */
NOINLINE void serve_stdin(void) {
  char line[64];
  while (fgets(line, sizeof line, stdin)) {
    printf("alive %ld\n", __atomic_load_n(&ticks, __ATOMIC_RELAXED));
    fflush(stdout);
  }
  wait_for_signal();
}

/* The parent of a vfork child sleeps uninterruptibly until the child
 * exits: ptrace cannot stop it meanwhile. */
NOINLINE void vfork_and_wait(long seconds) {
  pid_t child = vfork();
  if (child == 0) {
    sleep((unsigned)seconds);
    _exit(0);
  }
  wait_for_signal();
}

static void* ephemeral_main(void* a) {
  sink = (int)(long)a;
  return 0;
}

NOINLINE void churn_threads(void) {
  for (long i = 0;; i++) {
    pthread_t t;
    if (pthread_create(&t, 0, ephemeral_main, (void*)i) == 0) pthread_join(t, 0);
  }
}

static void* spawner_main(void* a) {
  (void)a;
  pthread_setname_np(pthread_self(), "spawner");
  churn_threads();
  return 0;
}

NOINLINE void crash_with_threads(int n) {
  for (int i = 0; i < n; i++) {
    pthread_t t;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    const char* stack_kb = getenv("CRASHER_STACK_KB");
    pthread_attr_setstacksize(&attr, (size_t)(stack_kb ? atol(stack_kb) : 64) * 1024);
    if (pthread_create(&t, &attr, idle_main, 0) != 0) abort();
  }
  settle(hostile_threads + parked_threads + n);
  ready();
  null_level1();
}

/* Many small mappings with alternating protections, so none merge. */
NOINLINE void crash_with_maps(long count) {
  long page = sysconf(_SC_PAGESIZE);
  char* base = mmap(0, (size_t)(count * 2 * page), PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  for (long i = 0; i < count; i++)
    mprotect(base + i * 2 * page, (size_t)page, (i & 1) ? PROT_READ : PROT_READ | PROT_WRITE);
  ready();
  null_level1();
}

/* Maps made huge: `count` mappings of one file whose path is about 3.8 KB of
 * control bytes (15 directories of 250 each, under $CRASHER_WORKDIR or
 * /tmp), every other page, so none merge. */
NOINLINE void crash_with_hostile_maps(long count) {
  long page = sysconf(_SC_PAGESIZE);
  const char* workdir = getenv("CRASHER_WORKDIR");
  char base[4096];
  snprintf(base, sizeof base, "%s/crasher-maps-XXXXXX", workdir ? workdir : "/tmp");
  if (!mkdtemp(base)) return;
  int dir = open(base, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  char name[251];
  for (int level = 0; level < 15 && dir >= 0; level++) {
    for (int i = 0; i < 250; i++) name[i] = (char)(1 + (i + level) % 31); /* 0x01..0x1f */
    name[250] = 0;
    mkdirat(dir, name, 0700);
    int next = openat(dir, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    close(dir);
    dir = next;
  }
  int fd = openat(dir, "f", O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0 || ftruncate(fd, page) != 0) return;
  char* area = mmap(0, (size_t)(count * 2 * page), PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  for (long i = 0; i < count; i++) {
    mmap(area + i * 2 * page, (size_t)page, PROT_READ, MAP_PRIVATE | MAP_FIXED, fd, 0);
    munmap(area + (i * 2 + 1) * page, (size_t)page);
  }
  ready();
  null_level1();
}

NOINLINE void crash_with_heap(long megabytes) {
  size_t size = (size_t)megabytes << 20;
  char* heap = malloc(size);
  memset(heap, 0x5a, size);
  sink = heap[size - 1];
  ready();
  null_level1();
}

/* --- hostile processes --- */

/* Names made of what breaks reports: newlines, terminal escapes, shell
 * syntax, format directives, invalid UTF-8. */
static void* hostile_thread_main(void* a) {
  (void)a;
  pthread_setname_np(pthread_self(), "t\n\x1b[2J$(id)%n");
  park_in_pause();
  return 0;
}

static void become_hostile(void) {
  prctl(PR_SET_NAME, "ev\n\x1b]0;x\x07$(id)\xff", 0, 0, 0);
  pthread_t t;
  pthread_create(&t, 0, hostile_thread_main, 0);
  char name[] = "/dev/shm/crasher-\n\x1b[1m$(reboot)-%n-\xff\xfe-XXXXXX";
  (void)mkstemp(name); /* kept open: it shows in the open files */
  unlink(name);
}

/* The stack pointer and frame pointer moved into junk: words that look like
 * code addresses, frame pointers that point at themselves. */
static unsigned long junk[8192];
NOINLINE void garbage_stack(void) {
  for (int i = 0; i < 8192; i++) {
    switch (i % 4) {
      case 0: junk[i] = (unsigned long)&junk[i]; break;          /* a frame pointer to itself */
      case 1: junk[i] = (unsigned long)garbage_stack + 3; break; /* a "return address" */
      case 2: junk[i] = (unsigned long)0xdeadbeefcafe0000ULL + (unsigned long)i; break;
      default: junk[i] = (unsigned long)&junk[(i * 7919) % 8192]; break;
    }
  }
  ready();
#if defined(__x86_64__)
  __asm__ volatile("mov %0, %%rsp\n\tmov %0, %%rbp\n\txor %%eax, %%eax\n\tmovl (%%rax), %%eax"
                   :
                   : "r"(&junk[4096])
                   : "rax", "memory");
#elif defined(__i386__)
  __asm__ volatile("mov %0, %%esp\n\tmov %0, %%ebp\n\txor %%eax, %%eax\n\tmovl (%%eax), %%eax"
                   :
                   : "r"(&junk[4096])
                   : "eax", "memory");
#else
  __asm__ volatile("mov sp, %0\n\tmov x29, %0\n\tmov x0, #0\n\tldr x0, [x0]" : : "r"(&junk[4096]) : "x0", "memory");
#endif
}

/* Code with no module (so no CFI) and a frame-pointer chain that loops. */
NOINLINE void frame_pointer_loop(void) {
  unsigned char* code = mmap(0, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  static const unsigned char crash[] = {0x31, 0xc0, 0x8b, 0x00}; /* xor eax,eax; mov eax,[rax] */
  memcpy(code, crash, sizeof crash);
  static unsigned long loop[2];
  loop[0] = (unsigned long)loop;     /* saved rbp: the same frame again */
  loop[1] = (unsigned long)code + 2; /* return address: back into the code */
  ready();
#if defined(__x86_64__)
  __asm__ volatile("mov %0, %%rbp\n\tjmp *%1" : : "r"(loop), "r"(code) : "memory");
#elif defined(__i386__)
  __asm__ volatile("mov %0, %%ebp\n\tjmp *%1" : : "r"(loop), "r"(code) : "memory");
#else
  __asm__ volatile("mov x29, %0\n\tbr %1" : : "r"(loop), "r"(code) : "memory");
#endif
}

/* A file with a corrupt ELF header (counts and offsets that lie), mapped
 * executable; the crash happens inside it, so its "module" gets opened. */
NOINLINE void crash_in_crafted_elf(void) {
  char path[] = "/dev/shm/crasher-elf-XXXXXX";
  int fd = mkstemp(path);
  unsigned char image[8192];
  memset(image, 0xcc, sizeof image);
  static const unsigned char header[64] = {
      0x7f, 'E',  'L',  'F',  2,    1,    1,    0, 0,    0,    0, 0,
      0,    0,    0,    0,    3,    0,    0x3e, 0, 1,    0,    0, 0, /* ET_DYN, x86_64 */
      0,    0x10, 0,    0,    0,    0,    0,    0,                   /* e_entry */
      0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0,    0,                   /* e_phoff far away */
      0x40, 0,    0,    0,    0,    0,    0,    0,                   /* e_shoff: over the header */
      0,    0,    0,    0,    64,   0,    56,   0, 0xff, 0xff,       /* flags, ehsize, phentsize, phnum */
      64,   0,    0xff, 0xff, 0xfe, 0xff};                           /* shentsize, shnum, shstrndx */
  memcpy(image, header, sizeof header);
  static const unsigned char crash[] = {0x31, 0xc0, 0x8b, 0x00};
  memcpy(image + 4096, crash, sizeof crash);
  (void)!write(fd, image, sizeof image);
  unsigned char* map = mmap(0, sizeof image, PROT_READ | PROT_EXEC, MAP_PRIVATE, fd, 0);
  ready();
  ((void (*)(void))(map + 4096))();
}

/* glibc's abort message pointer aimed at nothing (1) or at a message that
 * claims to be huge and never ends (2), then abort(). */
NOINLINE void bad_abort_message(long how) {
  void** slot = dlsym(RTLD_DEFAULT, "__abort_msg");
  if (slot) {
    if (how == 1) {
      *slot = (void*)0x7e57deadbe00UL;
    } else {
      size_t size = 1 << 20;
      unsigned char* msg = mmap(0, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      memset(msg, 'A', size);
      *(unsigned int*)msg = 0xffffffffu;
      *slot = msg;
    }
  }
  ready();
  abort();
}

int main(int argc, char** argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: crasher MODE [ARG]\n");
    return 2;
  }
  const char* mode = argv[1];
  long arg = argc > 2 ? atol(argv[2]) : 0;
  const char* nodump = getenv("CRASHER_NODUMP");
  if (nodump && !strcmp(nodump, "1")) prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  const char* name = getenv("CRASHER_NAME");
  if (name) prctl(PR_SET_NAME, name, 0, 0, 0);
  const char* hostile = getenv("CRASHER_HOSTILE");
  if (hostile && !strcmp(hostile, "1")) {
    become_hostile();
    hostile_threads = 1;
  }
  const char* parked = getenv("CRASHER_PARKED");
  if (!parked || strcmp(parked, "0") != 0) start_parked_threads();
  if (!strcmp(mode, "live")) start_workers(arg);
  int parking = hostile_threads + parked_threads + (!strcmp(mode, "live") ? (int)arg : 0);
  if (!strcmp(mode, "churn")) {
    pthread_t t;
    pthread_create(&t, 0, spawner_main, 0);
  }
  if (!strcmp(mode, "nodump")) prctl(PR_SET_DUMPABLE, 0);
  settle(parking);
  /* Modes that set up more first say "ready" themselves, right before crashing. */
  if (strcmp(mode, "wait-stdin") != 0 && strcmp(mode, "threads") != 0 && strcmp(mode, "heap") != 0 &&
      strcmp(mode, "maps") != 0 && strcmp(mode, "hostile-maps") != 0 && strcmp(mode, "garbage-stack") != 0 &&
      strcmp(mode, "fp-loop") != 0 && strcmp(mode, "crafted-elf") != 0 && strcmp(mode, "bad-abort-msg") != 0)
    ready();
  if (!strcmp(mode, "null")) null_level1();
  else if (!strcmp(mode, "assert")) assert_in_worker();
  else if (!strcmp(mode, "abort")) abort();
  else if (!strcmp(mode, "stack-overflow")) sink = recurse_forever(0);
  else if (!strcmp(mode, "div-zero")) sink = divide(7, (int)arg);
  else if (!strcmp(mode, "ud2")) trap_here();
  else if (!strcmp(mode, "sigbus")) touch_truncated_mapping();
  else if (!strcmp(mode, "libc")) sink = (int)length_of((const char*)16);
  else if (!strcmp(mode, "null-call")) call_null_function();
  else if (!strcmp(mode, "inline")) crash_in_inline(NULL);
  else if (!strcmp(mode, "exec-stack")) jump_to_stack();
  else if (!strcmp(mode, "wait-stdin")) wait_then_crash();
  else if (!strcmp(mode, "wait-signal")) wait_for_signal();
  else if (!strcmp(mode, "live")) serve_stdin();
  else if (!strcmp(mode, "churn") || !strcmp(mode, "nodump")) wait_for_signal();
  else if (!strcmp(mode, "vfork")) vfork_and_wait(arg);
  else if (!strcmp(mode, "threads")) crash_with_threads((int)arg);
  else if (!strcmp(mode, "heap")) crash_with_heap(arg);
  else if (!strcmp(mode, "maps")) crash_with_maps(arg);
  else if (!strcmp(mode, "hostile-maps")) crash_with_hostile_maps(arg);
  else if (!strcmp(mode, "garbage-stack")) garbage_stack();
  else if (!strcmp(mode, "fp-loop")) frame_pointer_loop();
  else if (!strcmp(mode, "crafted-elf")) crash_in_crafted_elf();
  else if (!strcmp(mode, "bad-abort-msg")) bad_abort_message(arg);
  else {
    fprintf(stderr, "crasher: unknown mode '%s'\n", mode);
    return 2;
  }
  return 0;
}
