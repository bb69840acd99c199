{
  "targets": [
    {
      "target_name": "teardown_libpcap",
      "sources": ["src/binding.c"],
      "defines": ["NAPI_VERSION=8"],
      "cflags": ["-std=gnu11", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "conditions": [
        ["OS!='win'", { "link_settings": { "libraries": ["-lpcap"] } }]
      ]
    }
  ]
}
