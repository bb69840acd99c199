/*
 * teardown's libpcap binding (N-API, C). It exists for what the generic bindings do not hand over:
 *  - each frame's pcap_pkthdr: libpcap's timestamp (the kernel's, not the moment JavaScript runs) and the
 *    frame's length on the wire;
 *  - pcap_stats(): frames the kernel dropped because the capture buffer was full (ps_drop) and frames the
 *    interface dropped (ps_ifdrop);
 *  - which step of opening failed (permission, no such device, filter), as an error code, not only a message.
 *
 * Shape, as used by src/capture/live-source.ts:
 *   deviceList() -> [{ name, description, loopback, addresses: [{ addr, netmask }] }]
 *   libVersion() -> "libpcap version 1.10.3 ..."
 *   new Capture()
 *   capture.open(device, filter, bufferBytes, snapLen, timeoutMs, frame: Buffer, header: Float64Array(4),
 *                onPacket, onError)
 *     -> { linkType, linkTypeName, warning }
 *     Per frame, libpcap's bytes are copied into `frame` and header = [tsSec, tsUsec, capLen, origLen], then
 *     onPacket() is called with no arguments: nothing is allocated per frame on either side.
 *   capture.dispatch() -> frames handed over now, synchronously (those libpcap has ready)
 *   capture.stats() -> { recv, drop, ifDrop } (after close(): as they were when it closed)
 *   capture.close()  (safe inside onPacket: the frame in hand finishes, no later frame is delivered)
 *
 * N-API keeps the compiled module usable across Node.js versions (no rebuild after a Node upgrade).
 */
#include <node_api.h>
#include <uv.h>
#include <pcap/pcap.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/* Frames handled per wake-up of the event loop at most: under a flood, timers and signals still get their
 * turn (the poll handle is level-triggered, so what is left is read at the next turn of the loop). */
#define DISPATCH_BUDGET 4096
/* Frames asked of pcap_dispatch() at a time within that budget. */
#define DISPATCH_CHUNK 256
#define HEADER_FIELDS 4

typedef struct Capture {
  napi_env env;
  pcap_t *pcap;
  uv_poll_t *poll;
  /* Strong while open (the capture cannot be collected while it delivers frames), weak after close(). */
  napi_ref self;
  napi_ref on_packet;
  napi_ref on_error;
  napi_ref frame_ref;
  napi_ref header_ref;
  napi_async_context async;
  int has_async;
  uint8_t *frame;
  size_t frame_len;
  double *header;
  /* Valid only while dispatching. */
  napi_value cur_fn;
  napi_value cur_recv;
  int dispatching;
  int closing;
  int js_threw;
  int poll_open;
  int wrapper_gone;
  struct pcap_stat final_stats;
  int has_final_stats;
} Capture;

/* ------------------------------------------------------------------------------------------ helpers */

#define NAPI_OK(call)                                                  \
  do {                                                                 \
    if ((call) != napi_ok) {                                           \
      throw_last(env, #call);                                          \
      return NULL;                                                     \
    }                                                                  \
  } while (0)

static void throw_last(napi_env env, const char *what) {
  bool pending = false;
  napi_is_exception_pending(env, &pending);
  if (pending) return;
  const napi_extended_error_info *info = NULL;
  napi_get_last_error_info(env, &info);
  char msg[256];
  snprintf(msg, sizeof msg, "%s failed: %s", what, info != NULL && info->error_message != NULL ? info->error_message : "unknown error");
  napi_throw_error(env, NULL, msg);
}

static napi_value str_or_undefined(napi_env env, const char *s) {
  napi_value v;
  if (s == NULL) napi_get_undefined(env, &v);
  else napi_create_string_utf8(env, s, NAPI_AUTO_LENGTH, &v);
  return v;
}

static int set_str(napi_env env, napi_value obj, const char *key, const char *s) {
  return napi_set_named_property(env, obj, key, str_or_undefined(env, s)) == napi_ok;
}

static int set_num(napi_env env, napi_value obj, const char *key, double d) {
  napi_value v;
  return napi_create_double(env, d, &v) == napi_ok && napi_set_named_property(env, obj, key, v) == napi_ok;
}

/* A string argument into a malloc'd buffer (NULL with a pending exception on failure). */
static char *string_arg(napi_env env, napi_value v, const char *name) {
  size_t len = 0;
  if (napi_get_value_string_utf8(env, v, NULL, 0, &len) != napi_ok) {
    char msg[96];
    snprintf(msg, sizeof msg, "%s must be a string", name);
    napi_throw_type_error(env, NULL, msg);
    return NULL;
  }
  char *s = malloc(len + 1);
  if (s == NULL) {
    napi_throw_error(env, NULL, "out of memory");
    return NULL;
  }
  napi_get_value_string_utf8(env, v, s, len + 1, &len);
  return s;
}

/* ------------------------------------------------------------------------------------------ devices */

static napi_value address_text(napi_env env, const struct sockaddr *sa) {
  char text[INET6_ADDRSTRLEN + 1] = {0};
  const void *src = NULL;
  if (sa == NULL) return str_or_undefined(env, NULL);
  if (sa->sa_family == AF_INET) src = &((const struct sockaddr_in *)sa)->sin_addr;
  else if (sa->sa_family == AF_INET6) src = &((const struct sockaddr_in6 *)sa)->sin6_addr;
  if (src == NULL || inet_ntop(sa->sa_family, src, text, sizeof text) == NULL) return str_or_undefined(env, NULL);
  return str_or_undefined(env, text);
}

static napi_value device_list(napi_env env, napi_callback_info info) {
  char errbuf[PCAP_ERRBUF_SIZE] = {0};
  pcap_if_t *all = NULL;
  if (pcap_findalldevs(&all, errbuf) == -1) {
    napi_throw_error(env, "ERR_PCAP", errbuf);
    return NULL;
  }
  napi_value list;
  if (napi_create_array(env, &list) != napi_ok) {
    pcap_freealldevs(all);
    return NULL;
  }
  uint32_t i = 0;
  for (pcap_if_t *d = all; d != NULL; d = d->next) {
    napi_value dev, addrs, loop;
    napi_create_object(env, &dev);
    set_str(env, dev, "name", d->name);
    set_str(env, dev, "description", d->description);
    napi_get_boolean(env, (d->flags & PCAP_IF_LOOPBACK) != 0, &loop);
    napi_set_named_property(env, dev, "loopback", loop);
    napi_create_array(env, &addrs);
    uint32_t j = 0;
    for (pcap_addr_t *a = d->addresses; a != NULL; a = a->next) {
      if (a->addr == NULL || (a->addr->sa_family != AF_INET && a->addr->sa_family != AF_INET6)) continue;
      napi_value o;
      napi_create_object(env, &o);
      napi_set_named_property(env, o, "addr", address_text(env, a->addr));
      napi_set_named_property(env, o, "netmask", address_text(env, a->netmask));
      napi_set_element(env, addrs, j++, o);
    }
    napi_set_named_property(env, dev, "addresses", addrs);
    napi_set_element(env, list, i++, dev);
  }
  pcap_freealldevs(all);
  return list;
}

static napi_value lib_version(napi_env env, napi_callback_info info) {
  return str_or_undefined(env, pcap_lib_version());
}

/* ------------------------------------------------------------------------------------------ capture */

static Capture *unwrap(napi_env env, napi_value self) {
  void *p = NULL;
  if (napi_unwrap(env, self, &p) != napi_ok || p == NULL) {
    napi_throw_type_error(env, NULL, "not a Capture");
    return NULL;
  }
  return (Capture *)p;
}

static void free_capture_if_done(Capture *c) {
  if (c->wrapper_gone && !c->poll_open) free(c);
}

static void on_poll_closed(uv_handle_t *h) {
  Capture *c = (Capture *)h->data;
  free(h);
  c->poll = NULL;
  c->poll_open = 0;
  free_capture_if_done(c);
}

static void delete_ref(napi_env env, napi_ref *r) {
  if (*r != NULL) {
    napi_delete_reference(env, *r);
    *r = NULL;
  }
}

/* Stops polling, closes libpcap's handle and lets go of the JavaScript values. Not while dispatching. */
static void finish_close(Capture *c) {
  napi_env env = c->env;
  if (c->poll != NULL && c->poll_open && !uv_is_closing((uv_handle_t *)c->poll)) {
    uv_poll_stop(c->poll);
    uv_close((uv_handle_t *)c->poll, on_poll_closed);
  }
  if (c->pcap != NULL) {
    pcap_close(c->pcap);
    c->pcap = NULL;
  }
  delete_ref(env, &c->on_packet);
  delete_ref(env, &c->on_error);
  delete_ref(env, &c->frame_ref);
  delete_ref(env, &c->header_ref);
  c->frame = NULL;
  c->header = NULL;
  /* The async context stays until the wrapper goes (capture_finalize): close() may run while a callback scope
   * opened with it is still open (from a frame's callback, or from the tick queue drained as that scope closes). */
  if (c->self != NULL) {
    uint32_t count = 1;
    while (count > 0 && napi_reference_unref(env, c->self, &count) == napi_ok) {
    }
  }
}

/* close(): the counters as they are now are kept for stats() after the close. */
static void begin_close(Capture *c) {
  if (c->pcap == NULL || c->closing) return;
  c->closing = 1;
  if (pcap_stats(c->pcap, &c->final_stats) == 0) c->has_final_stats = 1;
  if (c->dispatching) pcap_breakloop(c->pcap);
  else finish_close(c);
}

static void on_frame(u_char *user, const struct pcap_pkthdr *h, const u_char *bytes) {
  Capture *c = (Capture *)user;
  if (c->closing || c->js_threw) return;
  size_t n = h->caplen;
  if (n > c->frame_len) n = c->frame_len;
  memcpy(c->frame, bytes, n);
  c->header[0] = (double)h->ts.tv_sec;
  c->header[1] = (double)h->ts.tv_usec;
  c->header[2] = (double)n;
  c->header[3] = (double)h->len;
  if (napi_call_function(c->env, c->cur_recv, c->cur_fn, 0, NULL, NULL) != napi_ok) {
    /* The callback threw: stop delivering; the exception is raised once libpcap has returned. */
    c->js_threw = 1;
    pcap_breakloop(c->pcap);
  }
}

static void report_error(Capture *c, napi_value recv, const char *msg) {
  napi_env env = c->env;
  napi_value fn, arg;
  if (c->on_error == NULL || napi_get_reference_value(env, c->on_error, &fn) != napi_ok || fn == NULL) return;
  napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &arg);
  if (napi_call_function(env, recv, fn, 1, &arg, NULL) != napi_ok) c->js_threw = 1;
}

/*
 * Hands over up to DISPATCH_BUDGET frames waiting in libpcap's buffer. Returns the frames handed over; on a
 * libpcap failure, copies its message into `failure` (the interface went away or down: no more frames will come).
 */
static int dispatch_frames(Capture *c, napi_value recv, char *failure, size_t failure_len) {
  napi_env env = c->env;
  int total = 0;
  if (napi_get_reference_value(env, c->on_packet, &c->cur_fn) != napi_ok || c->cur_fn == NULL) return 0;
  c->cur_recv = recv;
  c->dispatching = 1;
  while (total < DISPATCH_BUDGET && !c->closing && !c->js_threw) {
    int left = DISPATCH_BUDGET - total;
    int n = pcap_dispatch(c->pcap, left < DISPATCH_CHUNK ? left : DISPATCH_CHUNK, on_frame, (u_char *)c);
    if (n == PCAP_ERROR) {
      snprintf(failure, failure_len, "%s", pcap_geterr(c->pcap));
      break;
    }
    if (n <= 0) break;
    total += n;
  }
  c->dispatching = 0;
  return total;
}

static void on_readable(uv_poll_t *h, int status, int events) {
  Capture *c = (Capture *)h->data;
  if (c->pcap == NULL || c->closing) return;
  napi_env env = c->env;
  napi_handle_scope hs;
  napi_callback_scope cs;
  napi_value self;
  if (napi_open_handle_scope(env, &hs) != napi_ok) return;
  if (napi_get_reference_value(env, c->self, &self) != napi_ok || self == NULL ||
      napi_open_callback_scope(env, self, c->async, &cs) != napi_ok) {
    napi_close_handle_scope(env, hs);
    return;
  }
  char failure[PCAP_ERRBUF_SIZE + 32] = {0};
  dispatch_frames(c, self, failure, sizeof failure);
  /* libuv reports an error on the descriptor (the interface went down): libpcap's own words say it better. */
  if (status < 0 && failure[0] == '\0' && !c->closing)
    snprintf(failure, sizeof failure, "the interface went down or away (poll: %s)", uv_strerror(status));
  if (failure[0] != '\0' && !c->closing && !c->js_threw) {
    uv_poll_stop(c->poll);
    report_error(c, self, failure);
  }
  if (c->js_threw) {
    /* As for an exception thrown by an event listener: the process's uncaughtException. */
    napi_value err;
    c->js_threw = 0;
    if (napi_get_and_clear_last_exception(env, &err) == napi_ok) napi_fatal_exception(env, err);
  }
  napi_close_callback_scope(env, cs);
  napi_close_handle_scope(env, hs);
  /* close() called from a frame's callback: libpcap has returned, the handle can go now. */
  if (c->closing && c->pcap != NULL) finish_close(c);
}

/* dispatch(): hands over, now and synchronously, the frames already waiting (returns how many). An exception
 * thrown by onPacket propagates to the caller. */
static napi_value capture_dispatch(napi_env env, napi_callback_info info) {
  napi_value self, result;
  NAPI_OK(napi_get_cb_info(env, info, NULL, NULL, &self, NULL));
  Capture *c = unwrap(env, self);
  if (c == NULL) return NULL;
  if (c->dispatching) {
    napi_throw_error(env, NULL, "dispatch() called from onPacket");
    return NULL;
  }
  int n = 0;
  if (c->pcap != NULL && !c->closing) {
    char failure[PCAP_ERRBUF_SIZE + 32] = {0};
    n = dispatch_frames(c, self, failure, sizeof failure);
    if (failure[0] != '\0' && !c->closing && !c->js_threw) {
      uv_poll_stop(c->poll);
      report_error(c, self, failure);
    }
    if (c->closing && c->pcap != NULL) finish_close(c);
  }
  if (c->js_threw) {
    c->js_threw = 0;
    return NULL; /* the exception is pending */
  }
  NAPI_OK(napi_create_int32(env, n, &result));
  return result;
}

static void capture_finalize(napi_env env, void *data, void *hint) {
  Capture *c = (Capture *)data;
  /* Only reached once the strong self reference is gone, i.e. after close() (or never opened). */
  if (c->pcap != NULL) {
    c->closing = 1;
    finish_close(c);
  }
  if (c->has_async) {
    napi_async_destroy(env, c->async);
    c->has_async = 0;
  }
  delete_ref(env, &c->self);
  c->wrapper_gone = 1;
  free_capture_if_done(c);
}

static napi_value capture_new(napi_env env, napi_callback_info info) {
  napi_value self;
  NAPI_OK(napi_get_cb_info(env, info, NULL, NULL, &self, NULL));
  Capture *c = calloc(1, sizeof *c);
  if (c == NULL) {
    napi_throw_error(env, NULL, "out of memory");
    return NULL;
  }
  c->env = env;
  if (napi_wrap(env, self, c, capture_finalize, NULL, &c->self) != napi_ok) {
    free(c);
    throw_last(env, "napi_wrap");
    return NULL;
  }
  return self;
}

/* Throws libpcap's message with a code telling which step failed, and closes the half-opened handle. */
static napi_value fail_open(napi_env env, pcap_t *p, const char *code, const char *msg) {
  char text[PCAP_ERRBUF_SIZE + 64];
  snprintf(text, sizeof text, "%s", msg);
  if (p != NULL) pcap_close(p);
  napi_throw_error(env, code, text);
  return NULL;
}

static const char *activate_code(int rc) {
  switch (rc) {
    case PCAP_ERROR_PERM_DENIED:
#ifdef PCAP_ERROR_PROMISC_PERM_DENIED
    case PCAP_ERROR_PROMISC_PERM_DENIED:
#endif
      return "ERR_PCAP_PERM";
    case PCAP_ERROR_NO_SUCH_DEVICE:
      return "ERR_PCAP_NO_SUCH_DEVICE";
    case PCAP_ERROR_IFACE_NOT_UP:
      return "ERR_PCAP_IFACE_NOT_UP";
    default:
      return "ERR_PCAP";
  }
}

static napi_value capture_open(napi_env env, napi_callback_info info) {
  size_t argc = 9;
  napi_value argv[9], self;
  NAPI_OK(napi_get_cb_info(env, info, &argc, argv, &self, NULL));
  Capture *c = unwrap(env, self);
  if (c == NULL) return NULL;
  if (argc < 9) {
    napi_throw_type_error(env, NULL, "open(device, filter, bufferBytes, snapLen, timeoutMs, frame, header, onPacket, onError)");
    return NULL;
  }
  if (c->pcap != NULL || c->closing) {
    napi_throw_error(env, NULL, "this capture was opened already");
    return NULL;
  }
  int32_t buffer_bytes = 0, snap_len = 0, timeout_ms = 0;
  if (napi_get_value_int32(env, argv[2], &buffer_bytes) != napi_ok || buffer_bytes <= 0) {
    napi_throw_type_error(env, NULL, "bufferBytes must be a positive integer");
    return NULL;
  }
  if (napi_get_value_int32(env, argv[3], &snap_len) != napi_ok || snap_len <= 0) {
    napi_throw_type_error(env, NULL, "snapLen must be a positive integer");
    return NULL;
  }
  if (napi_get_value_int32(env, argv[4], &timeout_ms) != napi_ok || timeout_ms < 0) {
    napi_throw_type_error(env, NULL, "timeoutMs must be an integer >= 0");
    return NULL;
  }
  bool is_buffer = false;
  void *frame = NULL;
  size_t frame_len = 0;
  napi_is_buffer(env, argv[5], &is_buffer);
  if (!is_buffer || napi_get_buffer_info(env, argv[5], &frame, &frame_len) != napi_ok || frame_len < (size_t)snap_len) {
    napi_throw_type_error(env, NULL, "frame must be a Buffer of at least snapLen bytes");
    return NULL;
  }
  bool is_typed = false;
  napi_typedarray_type ttype;
  size_t tlen = 0;
  void *tdata = NULL;
  napi_is_typedarray(env, argv[6], &is_typed);
  if (!is_typed || napi_get_typedarray_info(env, argv[6], &ttype, &tlen, &tdata, NULL, NULL) != napi_ok ||
      ttype != napi_float64_array || tlen < HEADER_FIELDS) {
    napi_throw_type_error(env, NULL, "header must be a Float64Array of 4 elements");
    return NULL;
  }
  napi_valuetype t1, t2;
  napi_typeof(env, argv[7], &t1);
  napi_typeof(env, argv[8], &t2);
  if (t1 != napi_function || t2 != napi_function) {
    napi_throw_type_error(env, NULL, "onPacket and onError must be functions");
    return NULL;
  }

  char *device = string_arg(env, argv[0], "device");
  if (device == NULL) return NULL;
  char *filter = string_arg(env, argv[1], "filter");
  if (filter == NULL) {
    free(device);
    return NULL;
  }

  char errbuf[PCAP_ERRBUF_SIZE] = {0};
  char warning[PCAP_ERRBUF_SIZE] = {0};
  napi_value result = NULL;
  pcap_t *p = pcap_create(device, errbuf);
  if (p == NULL) {
    fail_open(env, NULL, "ERR_PCAP", errbuf);
    goto done;
  }
  /* timeoutMs 0: immediate mode, each frame handed over as it arrives. Otherwise frames are handed over in
   * batches, at the latest timeoutMs after the first one (Linux: TPACKET_V3 blocks, frames packed). */
  if (pcap_set_snaplen(p, snap_len) != 0 || pcap_set_promisc(p, 1) != 0 ||
      pcap_set_timeout(p, timeout_ms > 0 ? timeout_ms : 100) != 0 || pcap_set_immediate_mode(p, timeout_ms == 0) != 0 ||
      pcap_set_buffer_size(p, buffer_bytes) != 0) {
    fail_open(env, p, "ERR_PCAP", "libpcap refused the capture settings");
    goto done;
  }
  int rc = pcap_activate(p);
  if (rc < 0) {
    const char *detail = pcap_geterr(p);
    char msg[PCAP_ERRBUF_SIZE + 64];
    if (detail != NULL && detail[0] != '\0') snprintf(msg, sizeof msg, "%s", detail);
    else snprintf(msg, sizeof msg, "%s", pcap_statustostr(rc));
    fail_open(env, p, activate_code(rc), msg);
    goto done;
  }
  if (rc > 0) {
    /* A warning (promiscuous mode not supported, …): the capture works; the caller may say so. */
    const char *detail = pcap_geterr(p);
    snprintf(warning, sizeof warning, "%s", detail != NULL && detail[0] != '\0' ? detail : pcap_statustostr(rc));
  }
  if (filter[0] != '\0') {
    bpf_u_int32 net = 0, mask = 0;
    /* Without an IPv4 address there is no netmask: only filters using "broadcast" need it. */
    if (pcap_lookupnet(device, &net, &mask, errbuf) == -1) mask = PCAP_NETMASK_UNKNOWN;
    struct bpf_program prog;
    if (pcap_compile(p, &prog, filter, 1, mask) == -1) {
      fail_open(env, p, "ERR_PCAP_FILTER", pcap_geterr(p));
      goto done;
    }
    int set = pcap_setfilter(p, &prog);
    pcap_freecode(&prog);
    if (set == -1) {
      fail_open(env, p, "ERR_PCAP_FILTER", pcap_geterr(p));
      goto done;
    }
  }
  if (pcap_setnonblock(p, 1, errbuf) == -1) {
    fail_open(env, p, "ERR_PCAP", errbuf);
    goto done;
  }
  int fd = pcap_get_selectable_fd(p);
  if (fd < 0) {
    fail_open(env, p, "ERR_PCAP", "libpcap gives no descriptor to poll for this device");
    goto done;
  }
  /* The async context the frame callbacks run in: without it they cannot be called at all. */
  napi_value name;
  napi_create_string_utf8(env, "teardown-libpcap:capture", NAPI_AUTO_LENGTH, &name);
  if (!c->has_async) {
    if (napi_async_init(env, self, name, &c->async) != napi_ok) {
      fail_open(env, p, "ERR_PCAP", "cannot create the callback context");
      goto done;
    }
    c->has_async = 1;
  }
  uv_loop_t *loop = NULL;
  uv_poll_t *poll = malloc(sizeof *poll);
  if (poll == NULL || napi_get_uv_event_loop(env, &loop) != napi_ok || uv_poll_init(loop, poll, fd) != 0) {
    free(poll);
    fail_open(env, p, "ERR_PCAP", "cannot watch the capture descriptor");
    goto done;
  }
  poll->data = c;

  c->pcap = p;
  c->poll = poll;
  c->poll_open = 1;
  c->frame = frame;
  c->frame_len = frame_len;
  c->header = tdata;
  napi_create_reference(env, argv[5], 1, &c->frame_ref);
  napi_create_reference(env, argv[6], 1, &c->header_ref);
  napi_create_reference(env, argv[7], 1, &c->on_packet);
  napi_create_reference(env, argv[8], 1, &c->on_error);
  napi_reference_ref(env, c->self, NULL);
  if (uv_poll_start(poll, UV_READABLE, on_readable) != 0) {
    begin_close(c);
    napi_throw_error(env, "ERR_PCAP", "cannot watch the capture descriptor");
    goto done;
  }

  int dlt = pcap_datalink(p);
  napi_create_object(env, &result);
  set_num(env, result, "linkType", dlt);
  set_str(env, result, "linkTypeName", pcap_datalink_val_to_name(dlt));
  set_str(env, result, "warning", warning[0] != '\0' ? warning : NULL);

done:
  free(device);
  free(filter);
  return result;
}

static napi_value capture_stats(napi_env env, napi_callback_info info) {
  napi_value self;
  NAPI_OK(napi_get_cb_info(env, info, NULL, NULL, &self, NULL));
  Capture *c = unwrap(env, self);
  if (c == NULL) return NULL;
  struct pcap_stat s;
  if (c->pcap != NULL && !c->closing) {
    if (pcap_stats(c->pcap, &s) != 0) {
      napi_throw_error(env, "ERR_PCAP", pcap_geterr(c->pcap));
      return NULL;
    }
  } else if (c->has_final_stats) {
    s = c->final_stats;
  } else {
    napi_throw_error(env, "ERR_PCAP", "the capture is not open");
    return NULL;
  }
  napi_value o;
  NAPI_OK(napi_create_object(env, &o));
  set_num(env, o, "recv", s.ps_recv);
  set_num(env, o, "drop", s.ps_drop);
  set_num(env, o, "ifDrop", s.ps_ifdrop);
  return o;
}

static napi_value capture_close(napi_env env, napi_callback_info info) {
  napi_value self;
  NAPI_OK(napi_get_cb_info(env, info, NULL, NULL, &self, NULL));
  Capture *c = unwrap(env, self);
  if (c == NULL) return NULL;
  begin_close(c);
  napi_value undef;
  napi_get_undefined(env, &undef);
  return undef;
}

/* ------------------------------------------------------------------------------------------ module */

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor methods[] = {
      {"open", NULL, capture_open, NULL, NULL, NULL, napi_default, NULL},
      {"dispatch", NULL, capture_dispatch, NULL, NULL, NULL, napi_default, NULL},
      {"stats", NULL, capture_stats, NULL, NULL, NULL, napi_default, NULL},
      {"close", NULL, capture_close, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_value cls;
  NAPI_OK(napi_define_class(env, "Capture", NAPI_AUTO_LENGTH, capture_new, NULL, sizeof methods / sizeof methods[0], methods, &cls));
  napi_property_descriptor fns[] = {
      {"Capture", NULL, NULL, NULL, NULL, cls, napi_enumerable, NULL},
      {"deviceList", NULL, device_list, NULL, NULL, NULL, napi_enumerable, NULL},
      {"libVersion", NULL, lib_version, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  NAPI_OK(napi_define_properties(env, exports, sizeof fns / sizeof fns[0], fns));
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
