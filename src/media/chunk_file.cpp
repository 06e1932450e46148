#include "media/chunk_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "media/sha256.h"

namespace hn {
namespace {
std::string err(const std::string& what) { return what + ": " + std::strerror(errno); }

bool pread_full(int fd, char* buf, size_t len, off_t off) {
  size_t got = 0;
  while (got < len) {
    ssize_t n = ::pread(fd, buf + got, len - got, off + static_cast<off_t>(got));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    got += static_cast<size_t>(n);
  }
  return true;
}
// True when [off, off+len) has a hole: never written, so it cannot hold a verified chunk. Filesystems
// without SEEK_HOLE report all data, and the chunk is hashed as before.
bool has_hole(int fd, off_t off, uint64_t len) {
  off_t hole = ::lseek(fd, off, SEEK_HOLE);
  return hole >= 0 && static_cast<uint64_t>(hole - off) < len;
}

std::string dir_of(const std::string& path) {
  auto slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

// Human-readable size: "512 KiB", "3.4 MiB", "6250.0 GiB".
std::string gib(uint64_t bytes) {
  char b[32];
  double v = static_cast<double>(bytes);
  if (bytes < (1ull << 20)) std::snprintf(b, sizeof b, "%.0f KiB", v / 1024.0);
  else if (bytes < (1ull << 30)) std::snprintf(b, sizeof b, "%.1f MiB", v / static_cast<double>(1ull << 20));
  else std::snprintf(b, sizeof b, "%.1f GiB", v / static_cast<double>(1ull << 30));
  return b;
}
}  // namespace

Result<std::vector<bool>> ChunkFile::open(const std::atomic<bool>* cancel) {
  std::vector<bool> have(m_.chunks.size(), false);
  struct stat st;
  std::string path = part_path();
  if (::stat(output_.c_str(), &st) == 0 && static_cast<uint64_t>(st.st_size) == m_.total_size) {
    path = output_;  // a finished download: verify it and seed from it
    finished_ = true;
  }
  if (!finished_) {
    // The part file is sparse: a manifest can name terabytes that only fail once the disk is full.
    // Refuse at once what cannot fit (the part file's own blocks count as already there).
    uint64_t on_disk = ::stat(path.c_str(), &st) == 0 ? static_cast<uint64_t>(st.st_blocks) * 512 : 0;
    struct statvfs vfs;
    if (::statvfs(dir_of(path).c_str(), &vfs) == 0) {
      uint64_t avail = static_cast<uint64_t>(vfs.f_bavail) * vfs.f_frsize;
      uint64_t need = m_.total_size > on_disk ? m_.total_size - on_disk : 0;
      if (need > avail)
        return make_error("not enough disk space for " + path + ": the video needs " + gib(need) + " more, " +
                          dir_of(path) + " has " + gib(avail) + " free");
    }
  }
  fd_.reset(::open(path.c_str(), (finished_ ? O_RDONLY : O_RDWR | O_CREAT) | O_CLOEXEC, 0644));
  if (!fd_.valid()) return make_error(err("cannot open " + path));
  if (!finished_ && ::ftruncate(fd_.get(), static_cast<off_t>(m_.total_size)) != 0)
    return make_error(err("cannot size " + path));
  std::string buf;
  for (size_t i = 0; i < m_.chunks.size(); ++i) {
    if (cancel != nullptr && cancel->load()) return make_error("stopped while verifying " + path);
    if (has_hole(fd_.get(), static_cast<off_t>(m_.offset_of(i)), m_.chunks[i].size)) continue;
    buf.resize(m_.chunks[i].size);
    if (!pread_full(fd_.get(), buf.data(), buf.size(), static_cast<off_t>(m_.offset_of(i)))) continue;
    have[i] = sha256_hex(buf.data(), buf.size()) == m_.chunks[i].id;
  }
  if (finished_) {
    for (bool h : have)
      if (!h) return make_error(output_ + " exists but does not match the manifest; move it away");
  }
  return have;
}

Result<void> ChunkFile::write(uint32_t index, const std::string& data) {
  if (finished_) return {};
  off_t off = static_cast<off_t>(m_.offset_of(index));
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::pwrite(fd_.get(), data.data() + done, data.size() - done, off + static_cast<off_t>(done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return make_error(err("cannot write " + part_path()));
    done += static_cast<size_t>(n);
  }
  return {};
}

Result<std::string> ChunkFile::read(uint32_t index) const {
  std::string buf(m_.chunks.at(index).size, '\0');
  if (!pread_full(fd_.get(), buf.data(), buf.size(), static_cast<off_t>(m_.offset_of(index))))
    return make_error(err("cannot read chunk " + std::to_string(index)));
  return buf;
}

Result<void> ChunkFile::finish() {
  if (finished_) return {};
  if (::fsync(fd_.get()) != 0) return make_error(err("fsync " + part_path()));
  if (::rename(part_path().c_str(), output_.c_str()) != 0) return make_error(err("rename to " + output_));
  finished_ = true;
  return {};
}

}  // namespace hn
