// RAII for libuv handles: a handle is heap-allocated and freed in its close callback, which libuv
// requires (the memory must stay valid until the loop has finished closing it).
#pragma once
#include <uv.h>

#include <utility>

namespace hn::net {

template <class H>
class UvHandle {
 public:
  UvHandle() : h_(new H{}) {}
  ~UvHandle() { reset(); }
  UvHandle(UvHandle&& o) noexcept : h_(std::exchange(o.h_, nullptr)) {}
  UvHandle& operator=(UvHandle&& o) noexcept {
    if (this != &o) {
      reset();
      h_ = std::exchange(o.h_, nullptr);
    }
    return *this;
  }
  UvHandle(const UvHandle&) = delete;
  UvHandle& operator=(const UvHandle&) = delete;

  H* get() const { return h_; }
  uv_handle_t* handle() const { return reinterpret_cast<uv_handle_t*>(h_); }
  H* operator->() const { return h_; }

  // Closes the handle (no more callbacks after this returns); memory is freed by the loop later.
  void reset() {
    if (h_ == nullptr) return;
    auto* h = reinterpret_cast<uv_handle_t*>(h_);
    h_ = nullptr;
    if (h->loop == nullptr) {  // never initialised
      delete reinterpret_cast<H*>(h);
      return;
    }
    h->data = nullptr;
    if (uv_is_closing(h)) return;
    uv_close(h, [](uv_handle_t* x) { delete reinterpret_cast<H*>(x); });
  }

 private:
  H* h_;
};

}  // namespace hn::net
