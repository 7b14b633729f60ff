// Throughput of blocked compression, measured on the CLI as a person runs it,
// in one run:
//   1. `signcut compress` at 1 bit per value, 1 thread: wall time (median and
//      range of --runs), MB/s of float32 input (N·4 bytes), ns per value, the
//      error and bits per value its --json reports, its peak RSS; beside it
//      zfp (libzfp, in this process, serial) at fixed rate 1 and at the fixed
//      accuracy whose stream is the largest not above 1 bit per value;
//   2. linearity: time per value at the largest field over that at 64 MiB;
//   3. threads: --threads 2 against 1 on the field nearest 256 MiB;
//   4. `signcut decompress`, 1 thread: MB/s of output, and a central --region
//      of about 1 % of the values against 2 % of the full time plus the time
//      of `signcut info` (the start-up cost);
//   5. memory: compress of the 2 GiB field under --max-memory 512M.
// The CLI runs as a child process, from a fresh fork per run, so that wait4's
// ru_maxrss is that run's own peak. That peak also counts this program's
// anonymous resident pages at the fork (the child maps them until its exec),
// so zfp's buffers are freed before the next fork, and the header shows the
// most there ever was beside the floor, the peak RSS of `signcut --version`.
// Times are steady_clock, from the fork to wait4's return. Nothing here
// judges a time, and a failed child is a row of the table with its stderr's
// last line: one bad input must not cost the hours of figures around it.
//
// Usage: signcut-bench-throughput --work DIR [--runs N] [--signcut PATH]
//          [--make-fields 64M,1G,2G] [--make-field-script PATH] [--skip-memory]
//          [--zfp-limit BYTES] [--codecs sct|sct,zfp] [FILE.h5[:/dataset] ...]
//   --work DIR     temporary files (compressed and decompressed outputs,
//                  removed at the end) and the generated fields (kept, and
//                  reused by the next run)
//   --make-fields  fields of these sizes, made by make_field.py (float32, 3-D)
//   --zfp-limit    no zfp for inputs of more float32 bytes than this (1 GiB)
//   --codecs       compress's --codecs (default sct,zfp, compress's own)
#include <fcntl.h>
#include <linux/magic.h>
#include <malloc.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <hdf5.h>
#include <zfp.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

#include <fmt/format.h>

#include "signcut/datasets.hpp"
#include "signcut/error.hpp"
#include "signcut/tensor.hpp"

using namespace signcut;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

constexpr const char* usage_text =
    "usage: signcut-bench-throughput --work DIR [--runs N] [--signcut PATH] [--make-fields 64M,1G,2G] "
    "[--make-field-script PATH] [--skip-memory] [--zfp-limit BYTES] [--codecs sct|sct,zfp] [FILE.h5[:/dataset] ...]";

/// A bad argument of this program's own: one line, exit status 2.
struct BadArgument : std::runtime_error {
    using std::runtime_error::runtime_error;
};

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

const Clock::time_point program_start = Clock::now();

/// Progress goes to stderr as it happens (a run of the large fields takes
/// hours); the tables go to stdout at the end.
template <class... Args>
void progress(fmt::format_string<Args...> f, Args&&... args)
{
    fmt::print(stderr, "[{:7.1f} s] {}\n", seconds_since(program_start), fmt::format(f, std::forward<Args>(args)...));
}

std::string quoted(const std::string& a)
{
    if (!a.empty() && a.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:=,+@%")
                          == std::string::npos)
        return a;
    std::string q = "'";
    for (const char c : a) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return q + "'";
}

std::string command_line(const std::vector<std::string>& args)
{
    std::string s;
    for (const std::string& a : args) {
        if (!s.empty()) s += ' ';
        s += quoted(a);
    }
    return s;
}

std::string last_line(const std::string& text)
{
    const std::size_t end = text.find_last_not_of(" \t\r\n");
    if (end == std::string::npos) return {};
    const std::size_t nl = text.rfind('\n', end);
    const std::size_t start = nl == std::string::npos ? 0 : nl + 1;
    return text.substr(start, end + 1 - start);
}

/// This program's anonymous resident pages: what a child forked now starts
/// its ru_maxrss with (shared file pages are not copied at a fork).
double own_anonymous_rss_mib()
{
    std::ifstream f("/proc/self/status");
    for (std::string line; std::getline(f, line);)
        if (line.rfind("RssAnon:", 0) == 0) return std::strtod(line.c_str() + 8, nullptr) / 1024.0;
    return NAN;
}

double most_anonymous_rss_at_fork = 0;

// --- child processes ---------------------------------------------------------

struct ChildRun {
    bool ok = false;
    double seconds = 0;
    double peak_mib = 0;   ///< ru_maxrss of this child alone (wait4)
    std::string out;       ///< its stdout
    std::string failure;   ///< its stderr's last line and how it ended, if it failed
};

/// Runs `args` (args[0] a path) from a fresh fork, stdin /dev/null, stdout and
/// stderr collected through pipes (a pipe, not a terminal: no progress bar).
ChildRun run_child(const std::vector<std::string>& args)
{
    ChildRun r;
    int out[2], err[2];
    if (pipe2(out, O_CLOEXEC) != 0) {
        r.failure = fmt::format("pipe: {}", std::strerror(errno));
        return r;
    }
    if (pipe2(err, O_CLOEXEC) != 0) {
        r.failure = fmt::format("pipe: {}", std::strerror(errno));
        close(out[0]);
        close(out[1]);
        return r;
    }
    std::vector<char*> argv;
    for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    const std::string exec_failed = fmt::format("cannot execute {}\n", args[0]);
    most_anonymous_rss_at_fork = std::max(most_anonymous_rss_at_fork, own_anonymous_rss_mib());

    const auto t0 = Clock::now();
    const pid_t pid = fork();
    if (pid == 0) {
        // Only async-signal-safe calls between fork and exec.
        const int null = open("/dev/null", O_RDONLY);
        if (null >= 0) dup2(null, STDIN_FILENO);
        dup2(out[1], STDOUT_FILENO);
        dup2(err[1], STDERR_FILENO);
        execv(argv[0], argv.data());
        (void)!write(STDERR_FILENO, exec_failed.data(), exec_failed.size());
        _exit(127);
    }
    close(out[1]);
    close(err[1]);
    if (pid < 0) {
        r.failure = fmt::format("fork: {}", std::strerror(errno));
        close(out[0]);
        close(err[0]);
        return r;
    }
    std::string err_text;
    pollfd fds[2] = {{out[0], POLLIN, 0}, {err[0], POLLIN, 0}};
    int open_fds = 2;
    std::vector<char> buf(1 << 16);
    while (open_fds > 0) {
        if (poll(fds, 2, -1) < 0) {
            if (errno == EINTR) continue;
            break;
        }
        for (int i = 0; i < 2; ++i) {
            if (fds[i].fd < 0 || (fds[i].revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
            const ssize_t n = read(fds[i].fd, buf.data(), buf.size());
            if (n > 0) {
                (i == 0 ? r.out : err_text).append(buf.data(), static_cast<std::size_t>(n));
            } else if (n == 0 || errno != EINTR) {
                close(fds[i].fd);
                fds[i].fd = -1;  // poll skips negative descriptors
                --open_fds;
            }
        }
    }
    for (const pollfd& p : fds)
        if (p.fd >= 0) close(p.fd);
    int status = 0;
    rusage usage{};
    pid_t waited;
    while ((waited = wait4(pid, &status, 0, &usage)) < 0 && errno == EINTR) {
    }
    r.seconds = seconds_since(t0);
    r.peak_mib = static_cast<double>(usage.ru_maxrss) / 1024.0;
    if (waited != pid) {
        r.failure = fmt::format("wait4: {}", std::strerror(errno));
        return r;
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
        r.ok = true;
        return r;
    }
    const std::string how = WIFEXITED(status) ? fmt::format("exit status {}", WEXITSTATUS(status))
                                              : fmt::format("killed by signal {} ({})", WTERMSIG(status),
                                                            strsignal(WTERMSIG(status)));
    const std::string line = last_line(err_text);
    r.failure = line.empty() ? how : fmt::format("{} [{}]", line, how);
    return r;
}

/// A number of the CLI's one-line --json object, by key; nothing if the key
/// is absent or its value is not a number (null). The objects are flat, and
/// a key is told from an equal string value by the colon after it.
std::optional<double> json_number(const std::string& json, const std::string& key)
{
    const std::string quoted_key = "\"" + key + "\"";
    for (std::size_t p = json.find(quoted_key); p != std::string::npos; p = json.find(quoted_key, p + 1)) {
        std::size_t q = p + quoted_key.size();
        while (q < json.size() && std::isspace(static_cast<unsigned char>(json[q]))) ++q;
        if (q >= json.size() || json[q] != ':') continue;
        ++q;
        while (q < json.size() && std::isspace(static_cast<unsigned char>(json[q]))) ++q;
        const char* start = json.c_str() + q;
        char* end = nullptr;
        const double v = std::strtod(start, &end);
        if (end == start) return std::nullopt;
        return v;
    }
    return std::nullopt;
}

// --- statistics and machine state ---------------------------------------------

struct Stats {
    std::size_t n = 0;
    double median = NAN, lo = NAN, hi = NAN;
};

Stats stats_of(std::vector<double> v)
{
    Stats s;
    s.n = v.size();
    if (v.empty()) return s;
    std::sort(v.begin(), v.end());
    const std::size_t h = v.size() / 2;
    s.median = v.size() % 2 ? v[h] : (v[h - 1] + v[h]) / 2;
    s.lo = v.front();
    s.hi = v.back();
    return s;
}

std::string load_average()
{
    std::ifstream f("/proc/loadavg");
    std::string one;
    if (!(f >> one)) return "unknown";
    return one;
}

/// The file system of the work directory: decompress writes its output
/// there, and a tmpfs makes the write a memory copy rather than disk I/O.
std::string file_system_of(const fs::path& dir)
{
    struct statfs s {};
    if (statfs(dir.c_str(), &s) != 0) return fmt::format("unknown ({})", std::strerror(errno));
    const auto type = static_cast<unsigned long>(s.f_type);
    switch (type) {
    case TMPFS_MAGIC: return "tmpfs: yes";
    case EXT4_SUPER_MAGIC: return "tmpfs: no (ext2/3/4)";
    case XFS_SUPER_MAGIC: return "tmpfs: no (xfs)";
    case BTRFS_SUPER_MAGIC: return "tmpfs: no (btrfs)";
    case OVERLAYFS_SUPER_MAGIC: return "tmpfs: no (overlayfs)";
    case NFS_SUPER_MAGIC: return "tmpfs: no (nfs)";
    default: return fmt::format("tmpfs: no (f_type {:#x})", type);
    }
}

std::string mib(double bytes) { return fmt::format("{:.1f}", bytes / 1048576.0); }

std::string human_size(std::uint64_t bytes)
{
    if (bytes >= (1ull << 30) && bytes % (1ull << 30) == 0) return fmt::format("{} GiB", bytes >> 30);
    if (bytes >= (1ull << 20) && bytes % (1ull << 20) == 0) return fmt::format("{} MiB", bytes >> 20);
    return fmt::format("{:.1f} MiB", double(bytes) / 1048576.0);
}

// --- inputs ------------------------------------------------------------------

struct Input {
    std::string spec;           ///< as given to signcut: FILE.h5[:/dataset]
    std::string file, dataset;  ///< the dataset resolved (the file's only one if not named)
    std::string label;
    Shape shape;
    std::string dtype;
    std::uint64_t values = 0;
    double bytes() const { return 4.0 * static_cast<double>(values); }  // as float32, whatever it is stored as
};

Input resolve_input(const std::string& spec)
{
    Input in;
    in.spec = spec;
    const std::size_t colon = spec.rfind(":/");
    in.file = colon == std::string::npos ? spec : spec.substr(0, colon);
    if (!fs::is_regular_file(in.file)) throw BadArgument(fmt::format("input {}: no such file", in.file));
    try {
        if (colon != std::string::npos) {
            in.dataset = spec.substr(colon + 1);
        } else {
            const std::vector<std::string> all = list_datasets(in.file);
            if (all.size() != 1)
                throw BadArgument(fmt::format("input {} holds {} datasets: name one as {}:/dataset", in.file,
                                              all.size(), in.file));
            in.dataset = all.front();
        }
        const DatasetInfo info = inspect_dataset(in.file, in.dataset);
        in.shape = info.shape;
        in.dtype = info.dtype;
    } catch (const Error& e) {
        throw BadArgument(fmt::format("input {}: {}", spec, e.what()));
    }
    in.values = element_count(in.shape);
    in.label = fs::path(in.file).filename().string() + (colon == std::string::npos ? "" : ":" + in.dataset);
    return in;
}

/// "64M", "1G", "2GiB", "4096": bytes (binary units).
std::optional<std::uint64_t> parse_bytes(const std::string& text)
{
    const char* s = text.c_str();
    char* end = nullptr;
    errno = 0;
    const unsigned long long v = std::strtoull(s, &end, 10);
    if (end == s || errno != 0 || text[0] == '-') return std::nullopt;
    std::string unit(end);
    if (unit.size() > 1 && (unit.ends_with("iB") || unit.ends_with("B")))
        unit = unit.substr(0, unit.size() - (unit.ends_with("iB") ? 2 : 1));
    int shift = 0;
    if (unit.empty() || unit == "B") shift = 0;
    else if (unit == "K" || unit == "k") shift = 10;
    else if (unit == "M" || unit == "m") shift = 20;
    else if (unit == "G" || unit == "g") shift = 30;
    else if (unit == "T" || unit == "t") shift = 40;
    else return std::nullopt;
    if (v > (UINT64_MAX >> shift)) return std::nullopt;
    return static_cast<std::uint64_t>(v) << shift;
}

/// The 3-D float32 shape of a generated field: a power of two of values,
/// spread as evenly as powers of two allow (the largest extents last), as
/// BENCHMARKS.md's fields are; 2 GiB is 1024x512x1024, the shape its figures
/// are specified at.
std::optional<Shape> field_shape(std::uint64_t bytes)
{
    if (bytes % 4 != 0) return std::nullopt;
    const std::uint64_t values = bytes / 4;
    if (values < 64 || !std::has_single_bit(values)) return std::nullopt;
    const int e = std::countr_zero(values);
    if (e == 29) return Shape{1024, 512, 1024};
    const int b = e / 3, r = e % 3;
    return Shape{std::size_t{1} << b, std::size_t{1} << (b + (r >= 2)), std::size_t{1} << (b + (r >= 1))};
}

std::string shape_arg(const Shape& s)
{
    std::string t;
    for (const std::size_t e : s) {
        if (!t.empty()) t += 'x';
        t += std::to_string(e);
    }
    return t;
}

// --- zfp, in this process ------------------------------------------------------

/// Reads a dataset as float32 into memory, a slab of the first mode at a
/// time (about 64 MiB each), so that HDF5's conversion buffers stay small
/// whatever the size. Throws std::runtime_error.
std::unique_ptr<float[]> read_float32(const Input& in)
{
    struct Id {
        hid_t id;
        herr_t (*close)(hid_t);
        ~Id()
        {
            if (id >= 0) close(id);
        }
    };
    const Id file{H5Fopen(in.file.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose};
    if (file.id < 0) throw std::runtime_error(fmt::format("cannot open {}", in.file));
    const Id data{H5Dopen2(file.id, in.dataset.c_str(), H5P_DEFAULT), H5Dclose};
    if (data.id < 0) throw std::runtime_error(fmt::format("cannot open {}:{}", in.file, in.dataset));
    const Id space{H5Dget_space(data.id), H5Sclose};
    const int rank = static_cast<int>(in.shape.size());
    std::uint64_t row = 1;
    for (std::size_t a = 1; a < in.shape.size(); ++a) row *= in.shape[a];
    const std::uint64_t rows = std::max<std::uint64_t>(1, (std::uint64_t{64} << 20) / (4 * row));
    std::unique_ptr<float[]> x(new float[in.values]);
    std::vector<hsize_t> start(in.shape.size(), 0), count(in.shape.begin(), in.shape.end());
    for (std::uint64_t r0 = 0; r0 < in.shape[0]; r0 += rows) {
        start[0] = r0;
        count[0] = std::min<std::uint64_t>(rows, in.shape[0] - r0);
        if (H5Sselect_hyperslab(space.id, H5S_SELECT_SET, start.data(), nullptr, count.data(), nullptr) < 0)
            throw std::runtime_error("cannot select a slab");
        const Id memory{H5Screate_simple(rank, count.data(), nullptr), H5Sclose};
        if (H5Dread(data.id, H5T_NATIVE_FLOAT, memory.id, space.id, H5P_DEFAULT, x.get() + r0 * row) < 0)
            throw std::runtime_error(fmt::format("cannot read rows {}..{} of {}:{}", r0, r0 + count[0], in.file,
                                                 in.dataset));
    }
    return x;
}

/// One zfp stream over one field, as lib/zfp/baselines_zfp.cpp drives it:
/// at most four dimensions (higher orders merge their leading modes), x
/// fastest, serial execution, no header (the header is under 160 bits).
class Zfp {
public:
    Zfp(float* x, const Shape& shape) : zs_(zfp_stream_open(nullptr))
    {
        std::vector<std::size_t> c(shape.begin(), shape.end());
        while (c.size() > 4) {
            c[1] *= c[0];
            c.erase(c.begin());
        }
        dims_.assign(c.rbegin(), c.rend());
        field_ = make_field(x);
        if (!zs_ || !field_) throw std::runtime_error("zfp could not open a stream or a field");
        zfp_stream_set_execution(zs_.get(), zfp_exec_serial);
    }

    unsigned dimensionality() const { return static_cast<unsigned>(dims_.size()); }
    void set_rate(double rate) { zfp_stream_set_rate(zs_.get(), rate, zfp_type_float, dimensionality(), zfp_false); }
    void set_accuracy(double tolerance) { zfp_stream_set_accuracy(zs_.get(), tolerance); }

    /// Compresses with the current mode; returns the stream's bits. The
    /// buffer grows to zfp's bound for the mode and is kept, so a timed run
    /// after an untimed one allocates nothing.
    std::uint64_t compress()
    {
        const std::size_t words = zfp_stream_maximum_size(zs_.get(), field_.get()) / 8 + 2;
        if (words > words_) {
            bits_.reset();
            buffer_.reset();  // before the larger one: one buffer at a time
            buffer_.reset(new std::uint64_t[words]);
            words_ = words;
            bits_.reset(stream_open(buffer_.get(), 8 * words_));
            if (!bits_) throw std::runtime_error("zfp could not open a bit stream");
        }
        zfp_stream_set_bit_stream(zs_.get(), bits_.get());
        zfp_stream_rewind(zs_.get());
        const std::size_t bytes = zfp_compress(zs_.get(), field_.get());
        if (bytes == 0) throw std::runtime_error("zfp_compress failed");
        stream_bytes_ = bytes;
        return 8 * static_cast<std::uint64_t>(bytes);
    }

    /// Keeps only the last stream (at most a bit per value here), so the
    /// reconstruction is not allocated beside a buffer sized for zfp's worst
    /// case (about the input's size in fixed-accuracy mode).
    void keep_last_stream_only()
    {
        const std::size_t words = stream_bytes_ / 8 + 2;
        std::unique_ptr<std::uint64_t[]> small(new std::uint64_t[words]());
        std::memcpy(small.get(), buffer_.get(), stream_bytes_);
        bits_.reset();
        buffer_ = std::move(small);
        words_ = words;
        bits_.reset(stream_open(buffer_.get(), 8 * words_));
        if (!bits_) throw std::runtime_error("zfp could not open a bit stream");
    }

    void decompress(float* out)
    {
        const auto f = make_field(out);
        zfp_stream_set_bit_stream(zs_.get(), bits_.get());
        zfp_stream_rewind(zs_.get());
        if (zfp_decompress(zs_.get(), f.get()) == 0) throw std::runtime_error("zfp_decompress failed");
    }

private:
    struct StreamCloser {
        void operator()(zfp_stream* s) const { zfp_stream_close(s); }
    };
    struct FieldFree {
        void operator()(zfp_field* f) const { zfp_field_free(f); }
    };
    struct BitsCloser {
        void operator()(bitstream* s) const { stream_close(s); }
    };

    std::unique_ptr<zfp_field, FieldFree> make_field(float* p) const
    {
        zfp_field* f = nullptr;
        switch (dims_.size()) {
        case 1: f = zfp_field_1d(p, zfp_type_float, dims_[0]); break;
        case 2: f = zfp_field_2d(p, zfp_type_float, dims_[0], dims_[1]); break;
        case 3: f = zfp_field_3d(p, zfp_type_float, dims_[0], dims_[1], dims_[2]); break;
        default: f = zfp_field_4d(p, zfp_type_float, dims_[0], dims_[1], dims_[2], dims_[3]); break;
        }
        return std::unique_ptr<zfp_field, FieldFree>(f);
    }

    std::vector<std::size_t> dims_;
    std::unique_ptr<zfp_stream, StreamCloser> zs_;
    std::unique_ptr<zfp_field, FieldFree> field_;
    std::unique_ptr<std::uint64_t[]> buffer_;  // word-aligned for zfp's bit stream
    std::size_t words_ = 0;
    std::unique_ptr<bitstream, BitsCloser> bits_;
    std::size_t stream_bytes_ = 0;
};

struct ZfpFigure {
    std::string mode;  ///< "zfp rate 1", "zfp accuracy 2^e"
    std::string how;   ///< the calls, for the command-line column
    Stats compress;
    double bits_per_value = NAN, rel_error = NAN, decompress_seconds = NAN;
    std::string failure;
};

double rel_fro_error(const float* x, const float* y, std::uint64_t n)
{
    double err = 0, norm = 0;
    for (std::uint64_t i = 0; i < n; ++i) {
        const double d = double(x[i]) - double(y[i]);
        err += d * d;
        norm += double(x[i]) * double(x[i]);
    }
    return norm > 0 ? std::sqrt(err / norm) : (err > 0 ? INFINITY : 0.0);
}

/// The timed runs of the current mode (after one untimed run, or the
/// search, which leaves the buffer sized), then the error of the stream.
void time_and_measure(Zfp& z, const float* x, std::uint64_t n, std::size_t runs, ZfpFigure& fig)
{
    std::vector<double> times;
    std::uint64_t bits = 0;
    for (std::size_t r = 0; r < runs; ++r) {
        const auto t0 = Clock::now();
        bits = z.compress();
        times.push_back(seconds_since(t0));
    }
    fig.compress = stats_of(times);
    fig.bits_per_value = double(bits) / double(n);
    z.keep_last_stream_only();
    std::unique_ptr<float[]> y(new float[n]);
    const auto t0 = Clock::now();
    z.decompress(y.get());
    fig.decompress_seconds = seconds_since(t0);
    fig.rel_error = rel_fro_error(x, y.get(), n);
}

/// zfp beside signcut at 1 bit per value: fixed rate 1, and fixed accuracy
/// at the tolerance whose stream is the largest not above N bits. zfp rounds
/// a tolerance down to a power of two, so the search is a bisection over the
/// exponent e of 2^e, from 2^-40·max|x| (assumed too large a stream) to
/// 2·max|x| (about one bit per block); the size is monotone in e in practice.
std::vector<ZfpFigure> zfp_figures(const Input& in, std::size_t runs)
{
    std::vector<ZfpFigure> figs(2);
    figs[0].mode = "zfp rate 1";
    figs[1].mode = "zfp accuracy";
    std::unique_ptr<float[]> x;
    try {
        x = read_float32(in);
    } catch (const std::exception& e) {
        for (ZfpFigure& f : figs) f.failure = e.what();
        return figs;
    }
    const std::uint64_t n = in.values;
    const double budget = double(n);  // bits
    float maxabs = 0;
    std::uint64_t non_finite = 0;
    for (std::uint64_t i = 0; i < n; ++i) {
        non_finite += !std::isfinite(x[i]);
        maxabs = std::max(maxabs, std::fabs(x[i]));
    }
    if (non_finite > 0) {
        for (ZfpFigure& f : figs) f.failure = fmt::format("the data holds {} non-finite values", non_finite);
        return figs;
    }
    try {
        Zfp z(x.get(), in.shape);
        const unsigned d = z.dimensionality();
        z.set_rate(1.0);
        (void)z.compress();  // untimed: sizes the buffer
        figs[0].how =
            fmt::format("in-process: zfp_stream_set_rate(1, float, {}-D), zfp_compress; serial, no header", d);
        time_and_measure(z, x.get(), n, runs, figs[0]);
    } catch (const std::exception& e) {
        figs[0].failure = e.what();
    }
    try {
        Zfp z(x.get(), in.shape);
        int top = 0;
        std::frexp(double(maxabs), &top);  // maxabs < 2^top
        int lo = top - 41, hi = top + 1;
        const auto fits = [&](int e) {
            z.set_accuracy(std::ldexp(1.0, e));
            return double(z.compress()) <= budget;
        };
        std::size_t trials = 0;
        const auto trial = [&](int e) {
            ++trials;
            return fits(e);
        };
        if (maxabs == 0) {
            hi = 0;  // all zeros: any tolerance is exact in the fewest bits
            (void)trial(hi);
        } else if (!trial(hi)) {
            throw std::runtime_error(fmt::format("no tolerance up to 2^{} fits 1 bit per value", hi));
        } else if (trial(lo)) {
            hi = lo;
        } else {
            while (hi - lo > 1) {
                const int mid = lo + (hi - lo) / 2;
                (trial(mid) ? hi : lo) = mid;
            }
        }
        // The trials left the buffer at its largest: the timed runs allocate nothing.
        z.set_accuracy(std::ldexp(1.0, hi));
        figs[1].mode = fmt::format("zfp accuracy 2^{}", hi);
        figs[1].how = fmt::format("in-process: zfp_stream_set_accuracy({:.6g}) (largest stream <= 1 bit/value, of {} "
                                  "bisection trials), zfp_compress; serial, no header",
                                  std::ldexp(1.0, hi), trials);
        time_and_measure(z, x.get(), n, runs, figs[1]);
    } catch (const std::exception& e) {
        figs[1].failure = e.what();
    }
    return figs;
}

// --- the signcut figures ---------------------------------------------------------

struct CliFigure {
    std::vector<std::string> command;
    std::size_t runs = 0, failed = 0;
    Stats wall, decompose;  ///< decompose: the --json decompose_seconds, where reported
    bool decompose_reported = true;
    double peak_mib = NAN;  ///< the largest over the runs
    double rel_error = NAN, bits_per_value = NAN;
    std::string failure;  ///< the last failure's line
    double failed_seconds = NAN;  ///< and how long that run took
    bool ok() const { return wall.n > 0; }
};

CliFigure run_figure(const std::vector<std::string>& command, std::size_t runs, const std::string& what)
{
    CliFigure fig;
    fig.command = command;
    fig.runs = runs;
    std::vector<double> wall, decompose;
    for (std::size_t r = 0; r < runs; ++r) {
        const ChildRun c = run_child(command);
        // A failed run's peak counts too: figure 5 is about the peak of a
        // run that may be refused.
        fig.peak_mib = std::isnan(fig.peak_mib) ? c.peak_mib : std::max(fig.peak_mib, c.peak_mib);
        if (!c.ok) {
            ++fig.failed;
            fig.failure = c.failure;
            fig.failed_seconds = c.seconds;
            progress("{} run {}/{}: FAILED after {:.2f} s: {}", what, r + 1, runs, c.seconds, c.failure);
            continue;
        }
        wall.push_back(c.seconds);
        if (const auto v = json_number(c.out, "decompose_seconds")) decompose.push_back(*v);
        else fig.decompose_reported = false;
        if (const auto v = json_number(c.out, "rel_fro_error")) fig.rel_error = *v;
        if (const auto v = json_number(c.out, "bits_per_value")) fig.bits_per_value = *v;
        progress("{} run {}/{}: {:.2f} s, peak RSS {:.1f} MiB", what, r + 1, runs, c.seconds, c.peak_mib);
    }
    fig.wall = stats_of(wall);
    if (fig.decompose_reported) fig.decompose = stats_of(decompose);
    return fig;
}

struct DecompressFigures {
    CliFigure full, region, info;
    std::string region_text;
    double region_fraction = NAN;
};

/// A central box of about 1 % of the values: every mode cut to 0.01^(1/d).
std::pair<std::string, double> central_region(const Shape& shape)
{
    const double f = std::pow(0.01, 1.0 / double(shape.size()));
    std::string text;
    double kept = 1;
    for (const std::size_t n : shape) {
        const std::size_t e = std::clamp<std::size_t>(std::size_t(std::llround(double(n) * f)), 1, n);
        const std::size_t start = (n - e) / 2;
        text += fmt::format("{}{}:{}", text.empty() ? "" : ",", start, start + e);
        kept *= double(e) / double(n);
    }
    return {text, kept};
}

// --- the report ------------------------------------------------------------------

std::string fixed(double v, int digits)
{
    return std::isfinite(v) ? fmt::format("{:.{}f}", v, digits) : std::string("-");
}

std::string range_text(const Stats& s, int digits = 2)
{
    return s.n == 0 ? std::string("-") : fmt::format("{:.{}f}-{:.{}f}", s.lo, digits, s.hi, digits);
}

struct InputResult {
    Input input;
    bool generated = false;
    CliFigure compress;
    std::vector<ZfpFigure> zfp;
    std::string zfp_skipped;
    std::optional<DecompressFigures> decompress;
};

void print_compress_row(const InputResult& r)
{
    const Input& in = r.input;
    const double n = double(in.values);
    const CliFigure& c = r.compress;
    const std::string lead = fmt::format("{:<30} {:<16} {:>8}", in.label, format_shape(in.shape), mib(in.bytes()));
    const std::string blank(lead.size(), ' ');
    if (c.ok()) {
        fmt::print("{} {:<22} {:>4} {:>9.2f} {:>13} {:>8.2f} {:>9.0f} {:>11} {:>8.4f} {:>9.5f} {:>9.1f}{}\n", lead,
                   "signcut", c.wall.n, c.wall.median, range_text(c.wall), in.bytes() / c.wall.median / 1e6,
                   c.wall.median / n * 1e9,
                   c.decompose.n ? fixed(in.bytes() / c.decompose.median / 1e6, 2) : std::string("-"),
                   c.bits_per_value, c.rel_error, c.peak_mib,
                   c.failed ? fmt::format("  ({} of {} runs failed: {})", c.failed, c.runs, c.failure) : "");
    } else {
        fmt::print("{} {:<22} FAILED ({} runs): {}\n", lead, "signcut", c.runs, c.failure);
    }
    fmt::print("{}   $ {}\n", blank, command_line(c.command));
    for (const ZfpFigure& z : r.zfp) {
        if (!z.failure.empty()) {
            fmt::print("{} {:<22} FAILED: {}\n", blank, z.mode, z.failure);
            continue;
        }
        fmt::print("{} {:<22} {:>4} {:>9.3f} {:>13} {:>8.2f} {:>9.1f} {:>11} {:>8.4f} {:>9.5f} {:>9}\n", blank, z.mode,
                   z.compress.n, z.compress.median, range_text(z.compress, 3),
                   in.bytes() / z.compress.median / 1e6, z.compress.median / n * 1e9, "", z.bits_per_value,
                   z.rel_error, "");
        fmt::print("{}   # {}\n", blank, z.how);
    }
    if (!r.zfp_skipped.empty()) fmt::print("{} {:<22} {}\n", blank, "zfp", r.zfp_skipped);
}

void print_cli_row(const std::string& label, const CliFigure& f, double out_bytes, const std::string& extra)
{
    if (f.ok())
        fmt::print("   {:<40} {:>4} {:>9.3f} {:>13} {:>10} {:>9.1f}{}{}\n", label, f.wall.n, f.wall.median,
                   range_text(f.wall, 3), out_bytes > 0 ? fixed(out_bytes / f.wall.median / 1e6, 2) : std::string("-"),
                   f.peak_mib, extra,
                   f.failed ? fmt::format("  ({} of {} runs failed: {})", f.failed, f.runs, f.failure) : "");
    else
        fmt::print("   {:<40} FAILED ({} runs): {}\n", label, f.runs, f.failure);
    fmt::print("   {:<40}   $ {}\n", "", command_line(f.command));
}

}  // namespace

int main(int argc, char** argv)
{
    std::size_t runs = 3;
    std::string signcut = SIGNCUT_CLI_PATH;
    std::optional<fs::path> work;
    std::vector<std::string> field_sizes;
    fs::path script = fs::path(SIGNCUT_SOURCE_DIR) / ".." / "shared" / "tools" / "make_field.py";
    bool skip_memory = false;
    std::string codecs = "sct,zfp";  // compress's default
    std::uint64_t zfp_limit = std::uint64_t{1} << 30;
    std::vector<std::string> specs;

    std::vector<InputResult> results;
    std::vector<std::pair<std::uint64_t, Shape>> fields;
    try {
        for (int i = 1; i < argc; ++i) {
            const std::string a = argv[i];
            const auto value = [&]() -> std::string {
                if (i + 1 >= argc) throw BadArgument(fmt::format("{} needs a value", a));
                return argv[++i];
            };
            if (a == "--help" || a == "-h") {
                fmt::print("{}\n", usage_text);
                return 0;
            } else if (a == "--runs") {
                const std::string v = value();
                char* end = nullptr;
                const long n = std::strtol(v.c_str(), &end, 10);
                if (end == v.c_str() || *end != '\0' || n < 1 || n > 1000)
                    throw BadArgument(fmt::format("--runs {}: give a whole number from 1 to 1000", v));
                runs = static_cast<std::size_t>(n);
            } else if (a == "--signcut") {
                signcut = value();
            } else if (a == "--work") {
                work = value();
            } else if (a == "--make-fields") {
                const std::string v = value();
                for (std::size_t p = 0; p <= v.size();) {
                    const std::size_t q = std::min(v.find(',', p), v.size());
                    field_sizes.push_back(v.substr(p, q - p));
                    p = q + 1;
                }
            } else if (a == "--make-field-script") {
                script = value();
            } else if (a == "--skip-memory") {
                skip_memory = true;
            } else if (a == "--codecs") {
                codecs = value();
                if (codecs != "sct" && codecs != "sct,zfp" && codecs != "zfp,sct")
                    throw BadArgument(fmt::format("--codecs {}: give sct or sct,zfp", codecs));
            } else if (a == "--zfp-limit") {
                const std::string v = value();
                const auto b = parse_bytes(v);
                if (!b) throw BadArgument(fmt::format("--zfp-limit {}: give bytes, e.g. 1073741824 or 1G", v));
                zfp_limit = *b;
            } else if (!a.empty() && a[0] == '-') {
                throw BadArgument(fmt::format("unknown option {} (see --help)", a));
            } else {
                specs.push_back(a);
            }
        }
        if (!work) throw BadArgument("--work DIR is required (temporary files and generated fields go there)");
        if (access(signcut.c_str(), X_OK) != 0)
            throw BadArgument(fmt::format("--signcut {}: not an executable file ({})", signcut, std::strerror(errno)));
        std::error_code ec;
        fs::create_directories(*work, ec);
        if (ec || !fs::is_directory(*work))
            throw BadArgument(fmt::format("--work {}: cannot create the directory ({})", work->string(),
                                          ec ? ec.message() : "not a directory"));
        *work = fs::absolute(*work);
        for (const std::string& s : field_sizes) {
            const auto b = parse_bytes(s);
            const auto shape = b ? field_shape(*b) : std::nullopt;
            if (!shape)
                throw BadArgument(fmt::format("--make-fields: {} is not a size of a power of two float32 values "
                                              "(at least 256 bytes), e.g. 64M or 1G",
                                              s.empty() ? "''" : s));
            fields.emplace_back(*b, *shape);
        }
        for (const std::string& s : specs) {
            results.emplace_back();
            results.back().input = resolve_input(s);
        }
        bool must_generate = false;
        for (const auto& [bytes, shape] : fields)
            must_generate |= !fs::exists(*work / fmt::format("field-{}.h5", shape_arg(shape)));
        if (must_generate && !fs::is_regular_file(script))
            throw BadArgument(fmt::format("--make-field-script {}: no such file (needed to make the fields)",
                                          script.string()));
        if (specs.empty() && fields.empty()) throw BadArgument("no inputs: give FILE.h5[:/dataset] or --make-fields");
    } catch (const BadArgument& e) {
        fmt::print(stderr, "signcut-bench-throughput: error: {}\n", e.what());
        return 2;
    }

    // HDF5's own error stack printing off: read_float32 reports its failures.
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);

    const std::string load_start = load_average();
    const ChildRun version = run_child({signcut, "--version"});

    // The fields, made only if not there: a 2 GiB field takes minutes.
    std::vector<std::string> generation;
    for (const auto& [bytes, shape] : fields) {
        const fs::path out = *work / fmt::format("field-{}.h5", shape_arg(shape));
        const std::vector<std::string> make = {"/usr/bin/python3", script.string(), out.string(), "--shape",
                                               shape_arg(shape)};
        if (!fs::exists(out)) {
            progress("making {} ({})", out.string(), human_size(bytes));
            const ChildRun c = run_child(make);
            if (!c.ok) {
                generation.push_back(fmt::format("FAILED {}: {}\n      $ {}", out.filename().string(), c.failure,
                                                 command_line(make)));
                continue;
            }
            generation.push_back(fmt::format("made {} in {:.1f} s\n      $ {}", out.filename().string(), c.seconds,
                                             command_line(make)));
        } else {
            generation.push_back(fmt::format("reused {} (already in the work directory)", out.filename().string()));
        }
        try {
            InputResult r;
            r.input = resolve_input(out.string() + ":/data");
            r.generated = true;
            r.input.label = fmt::format("{} ({})", out.filename().string(), human_size(bytes));
            if (r.input.shape != shape) {
                generation.back() += fmt::format(" -- but its shape is {}, not {}: left out (remove it to remake it)",
                                                 format_shape(r.input.shape), format_shape(shape));
                continue;
            }
            results.push_back(std::move(r));
        } catch (const BadArgument& e) {
            generation.back() += fmt::format(" -- unreadable, left out: {}", e.what());
        }
    }
    const std::string load_measured = load_average();

    const std::string tag = fmt::format("bench-{}", getpid());
    std::vector<fs::path> temporaries;
    const auto temporary = [&](const std::string& name) {
        temporaries.push_back(*work / fmt::format("{}-{}", tag, name));
        return temporaries.back().string();
    };

    // 1, 6 and 4, input by input: its compressed file is decompressed before
    // the next input's is made, so the work directory holds one at a time.
    for (std::size_t i = 0; i < results.size(); ++i) {
        InputResult& r = results[i];
        const std::string out = temporary(fmt::format("{}.sct.h5", i));
        r.compress = run_figure({signcut, "compress", r.input.spec, "-o", out, "--bits-per-value", "1", "--threads",
                                 "1", "--codecs", codecs, "--force", "--json"},
                                runs, fmt::format("compress {}", r.input.label));
        if (r.input.bytes() > double(zfp_limit)) {
            r.zfp_skipped = fmt::format("skipped: {} MiB is above --zfp-limit {}", mib(r.input.bytes()), zfp_limit);
        } else {
            progress("zfp {}", r.input.label);
            r.zfp = zfp_figures(r.input, runs);
            // zfp's buffers back to the system before the next fork, whose
            // child's ru_maxrss would count them until its exec.
            malloc_trim(0);
        }
        if (r.compress.ok()) {
            DecompressFigures d;
            const std::string x = temporary(fmt::format("{}.decompressed.h5", i));
            d.full = run_figure({signcut, "decompress", out, "-o", x, "--threads", "1", "--force"}, runs,
                                fmt::format("decompress {}", r.input.label));
            std::tie(d.region_text, d.region_fraction) = central_region(r.input.shape);
            const std::string xr = temporary(fmt::format("{}.region.h5", i));
            d.region = run_figure(
                {signcut, "decompress", out, "-o", xr, "--region", d.region_text, "--threads", "1", "--force"}, runs,
                fmt::format("decompress --region {}", r.input.label));
            d.info = run_figure({signcut, "info", out}, runs, fmt::format("info {}", r.input.label));
            r.decompress = std::move(d);
            std::error_code ec;
            fs::remove(x, ec);
            fs::remove(xr, ec);
        }
        std::error_code ec;
        fs::remove(out, ec);
    }

    // 3. Threads, on the input nearest 256 MiB (by ratio of sizes).
    std::optional<std::size_t> threads_at;
    CliFigure threads2;
    for (std::size_t i = 0; i < results.size(); ++i) {
        if (!results[i].compress.ok()) continue;
        const auto distance = [&](std::size_t j) {
            return std::fabs(std::log2(results[j].input.bytes() / 268435456.0));
        };
        if (!threads_at || distance(i) < distance(*threads_at)) threads_at = i;
    }
    if (threads_at) {
        const InputResult& r = results[*threads_at];
        const std::string out = temporary("threads2.sct.h5");
        threads2 = run_figure({signcut, "compress", r.input.spec, "-o", out, "--bits-per-value", "1", "--threads", "2",
                               "--codecs", codecs, "--force", "--json"},
                              runs, fmt::format("compress --threads 2 {}", r.input.label));
        std::error_code ec;
        fs::remove(out, ec);
    }

    // 5. Memory: the 2 GiB field, or the largest input if none is.
    std::optional<std::size_t> memory_at;
    CliFigure memory;
    if (!skip_memory && !results.empty()) {
        for (std::size_t i = 0; i < results.size(); ++i)
            if (results[i].input.values == (std::uint64_t{1} << 29)) memory_at = i;
        if (!memory_at) {
            memory_at = 0;
            for (std::size_t i = 1; i < results.size(); ++i)
                if (results[i].input.values > results[*memory_at].input.values) memory_at = i;
        }
        const InputResult& r = results[*memory_at];
        const std::string out = temporary("memory.sct.h5");
        memory = run_figure({signcut, "compress", r.input.spec, "-o", out, "--bits-per-value", "1", "--threads", "1",
                             "--codecs", codecs, "--max-memory", "512M", "--force", "--json"},
                            1, fmt::format("compress --max-memory 512M {}", r.input.label));
        std::error_code ec;
        fs::remove(out, ec);
    }
    const std::string load_end = load_average();
    for (const fs::path& p : temporaries) {
        std::error_code ec;
        fs::remove(p, ec);
    }

    // --- the report ---
    fmt::print("signcut-bench-throughput: {:.0f} s in all\n", seconds_since(program_start));
    fmt::print("  signcut      {} ({})\n", signcut,
               version.ok ? last_line(version.out) : fmt::format("--version failed: {}", version.failure));
    fmt::print("  zfp          {} (libzfp, in this process, serial execution)\n", zfp_version_string);
    fmt::print("  work         {} ({})\n", work->string(), file_system_of(*work));
    fmt::print("  load         1-minute load average {} at the start, {} when the measurements began, {} at the end "
               "({} cores; each signcut run here adds about 1 per thread)\n",
               load_start, load_measured, load_end, sysconf(_SC_NPROCESSORS_ONLN));
    fmt::print("  runs         {} per figure (median and range); wall time from fork to wait4, steady_clock\n", runs);
    fmt::print("  peak RSS     wait4 ru_maxrss of each child; floor: signcut --version {:.1f} MiB; it includes this "
               "program's anonymous pages at the fork, at most {:.1f} MiB\n",
               version.peak_mib, most_anonymous_rss_at_fork);
    for (const std::string& g : generation) fmt::print("  field        {}\n", g);

    fmt::print("\n1. compress at 1 bit per value, 1 thread; MB/s = float32 input bytes (N*4) / median wall time; "
               "decomp MB/s from --json decompose_seconds; zfp beside it in-process on the data in memory "
               "(zfp_compress alone: no file I/O)\n");
    fmt::print("{:<30} {:<16} {:>8} {:<22} {:>4} {:>9} {:>13} {:>8} {:>9} {:>11} {:>8} {:>9} {:>9}\n", "input", "shape",
               "MiB", "codec", "runs", "median s", "range s", "MB/s", "ns/value", "decomp MB/s", "bits/val",
               "rel error", "peak MiB");
    for (const InputResult& r : results) print_compress_row(r);

    // 2. Linearity.
    fmt::print("\n2. linearity: time per value against the 64 MiB field (wall time; decompose time from --json)\n");
    std::optional<std::size_t> ref, largest;
    for (std::size_t i = 0; i < results.size(); ++i) {
        if (!results[i].compress.ok()) continue;
        if (!ref && results[i].input.values == (std::uint64_t{1} << 24)) ref = i;
        if (!largest || results[i].input.values > results[*largest].input.values) largest = i;
    }
    const auto ns_wall = [&](std::size_t i) {
        return results[i].compress.wall.median / double(results[i].input.values) * 1e9;
    };
    const auto ns_decompose = [&](std::size_t i) {
        return results[i].compress.decompose.median / double(results[i].input.values) * 1e9;
    };
    if (!ref) {
        fmt::print("   no 64 MiB input (256x256x256 float32) was compressed: give --make-fields 64M,...\n");
    } else {
        fmt::print("   {:<40} {:>10} {:>10} {:>10} {:>12} {:>10}\n", "input", "MiB", "ns/value", "ratio", "decomp ns/v",
                   "ratio");
        for (std::size_t i = 0; i < results.size(); ++i) {
            if (!results[i].compress.ok()) continue;
            fmt::print("   {:<40} {:>10} {:>10.0f} {:>10.3f} {:>12} {:>10}{}\n", results[i].input.label,
                       mib(results[i].input.bytes()), ns_wall(i), ns_wall(i) / ns_wall(*ref),
                       fixed(ns_decompose(i), 0), fixed(ns_decompose(i) / ns_decompose(*ref), 3),
                       i == *ref ? "  (reference)" : i == *largest ? "  (largest)" : "");
        }
        if (*largest == *ref)
            fmt::print("   largest / 64 MiB: n/a, the 64 MiB field is the largest input "
                       "(give --make-fields 64M,1G,2G)\n");
        else
            fmt::print("   largest ({}) / 64 MiB: {:.3f} (wall), {} (decompose)\n", results[*largest].input.label,
                       ns_wall(*largest) / ns_wall(*ref), fixed(ns_decompose(*largest) / ns_decompose(*ref), 3));
    }

    // 3. Threads.
    if (!threads_at) {
        fmt::print("\n3. threads: no input was compressed\n");
    } else {
        const InputResult& r = results[*threads_at];
        fmt::print("\n3. threads: compress --threads 2 against --threads 1 on {} ({}){}\n", r.input.label,
                   format_shape(r.input.shape),
                   r.input.values == (std::uint64_t{1} << 26) ? "" : " -- the input nearest 256 MiB");
        fmt::print("   {:<7} {:>4} {:>9} {:>13} {:>11} {:>13} {:>9}\n", "threads", "runs", "median s", "range s",
                   "decompose s", "range s", "peak MiB");
        const std::pair<int, const CliFigure*> rows[] = {{1, &r.compress}, {2, &threads2}};
        for (const auto& [t, f] : rows) {
            if (f->ok())
                fmt::print("   {:<7} {:>4} {:>9.2f} {:>13} {:>11} {:>13} {:>9.1f}\n", t, f->wall.n, f->wall.median,
                           range_text(f->wall), fixed(f->decompose.median, 2), range_text(f->decompose), f->peak_mib);
            else
                fmt::print("   {:<7} FAILED ({} runs): {}\n", t, f->runs, f->failure);
            fmt::print("           $ {}\n", command_line(f->command));
        }
        if (r.compress.ok() && threads2.ok()) {
            const bool by_decompose = r.compress.decompose.n > 0 && threads2.decompose.n > 0;
            const double wall = r.compress.wall.median / threads2.wall.median;
            if (by_decompose)
                fmt::print("   speedup of 2 threads: {:.3f} (decompose time, --json decompose_seconds); wall time "
                           "{:.3f}\n",
                           r.compress.decompose.median / threads2.decompose.median, wall);
            else
                fmt::print("   speedup of 2 threads: {:.3f} (wall time: --json reports no decompose_seconds)\n", wall);
        }
    }

    // 4. Decompress.
    fmt::print("\n4. decompress, 1 thread; MB/s = float32 output bytes / median wall time (per core); output into {} "
               "({})\n",
               work->string(), file_system_of(*work));
    fmt::print("   {:<40} {:>4} {:>9} {:>13} {:>10} {:>9}\n", "input / what", "runs", "median s", "range s", "MB/s",
               "peak MiB");
    for (const InputResult& r : results) {
        if (!r.decompress) {
            fmt::print("   {:<40} not measured: compress failed\n", r.input.label);
            continue;
        }
        const DecompressFigures& d = *r.decompress;
        fmt::print("   {}\n", r.input.label);
        print_cli_row("  full", d.full, r.input.bytes(), "");
        std::string against;
        if (d.full.ok() && d.region.ok() && d.info.ok()) {
            const double bound = 0.02 * d.full.wall.median + d.info.wall.median;
            against = fmt::format("  against 2 % of full + info = {:.3f} s: ratio {:.3f} ({})", bound,
                                  d.region.wall.median / bound, d.region.wall.median <= bound ? "within" : "over");
        }
        print_cli_row(fmt::format("  --region {} ({:.2f} %)", d.region_text, 100 * d.region_fraction), d.region,
                      r.input.bytes() * d.region_fraction, against);
        print_cli_row("  info (start-up cost)", d.info, 0, "");
        for (const ZfpFigure& z : r.zfp)
            if (z.failure.empty())
                fmt::print("   {:<40} {:>4} {:>9.3f} {:>13} {:>10.2f}   (zfp_decompress of the figure-1 stream, in "
                           "memory)\n",
                           "  " + z.mode, 1, z.decompress_seconds, "-", r.input.bytes() / z.decompress_seconds / 1e6);
    }

    // 5. Memory.
    if (skip_memory) {
        fmt::print("\n5. memory: skipped (--skip-memory)\n");
    } else if (memory_at) {
        const InputResult& r = results[*memory_at];
        fmt::print("\n5. memory: compress under --max-memory 512M of {} ({}, {} MiB float32){}\n", r.input.label,
                   format_shape(r.input.shape), mib(r.input.bytes()),
                   r.input.values == (std::uint64_t{1} << 29) ? "" : " -- no 2 GiB input, so the largest given");
        if (memory.ok())
            fmt::print("   succeeded in {:.1f} s: peak RSS {:.1f} MiB, {:.4f} bits/value, rel error {:.5f}\n",
                       memory.wall.median, memory.peak_mib, memory.bits_per_value, memory.rel_error);
        else
            fmt::print("   failed after {:.1f} s: peak RSS {:.1f} MiB; {}\n", memory.failed_seconds, memory.peak_mib,
                       memory.failure);
        fmt::print("   $ {}\n", command_line(memory.command));
    }
    return 0;
}
