// A whole HDF5 file rewritten object by object: compress --all and
// decompress --all.
#include <algorithm>
#include <vector>

#include <fmt/format.h>

#include "decomposition_file.hpp"
#include "hdf5_handle.hpp"
#include "hdf5_output.hpp"
#include "object_writers.hpp"
#include "variable_length.hpp"
#include "signcut/error.hpp"
#include "signcut/hdf5.hpp"
#include "signcut/hdf5_filter.hpp"

namespace signcut {
namespace {

struct Link {
    std::string name;
    H5L_type_t type;
};

herr_t collect_link(hid_t, const char* name, const H5L_info_t* info, void* data)
{
    static_cast<std::vector<Link>*>(data)->push_back({name, info->type});
    return 0;
}

herr_t collect_attribute(hid_t, const char* name, const H5A_info_t*, void* data)
{
    static_cast<std::vector<std::string>*>(data)->emplace_back(name);
    return 0;
}

std::string child_path(const std::string& parent, const std::string& name)
{
    return parent == "/" ? "/" + name : parent + "/" + name;
}

/// Copies the attributes of `from` onto `to` in their own types, except
/// those holding object references, which would point nowhere in another
/// file (noted instead).
void copy_attributes(hid_t from, hid_t to, const std::string& shown, std::vector<std::string>& notes)
{
    std::vector<std::string> names;
    hsize_t index = 0;
    if (H5Aiterate2(from, H5_INDEX_NAME, H5_ITER_INC, &index, collect_attribute, &names) < 0)
        h5::fail(errc::bad_input, fmt::format("cannot list the attributes of {}", shown));
    for (const std::string& name : names) {
        h5::Attribute a(H5Aopen(from, name.c_str(), H5P_DEFAULT));
        if (!a) h5::fail(errc::bad_input, fmt::format("cannot open attribute {} of {}", name, shown));
        h5::Datatype type(H5Aget_type(a.get()));
        h5::Dataspace space(H5Aget_space(a.get()));
        if (!type || !space) h5::fail(errc::bad_input, fmt::format("cannot read attribute {} of {}", name, shown));
        if (H5Tdetect_class(type.get(), H5T_REFERENCE) > 0) {
            notes.push_back(fmt::format("attribute {} of {} is not copied: it holds object references", name, shown));
            continue;
        }
        const hssize_t count = H5Sget_simple_extent_npoints(space.get());
        const std::size_t size = H5Tget_size(type.get());
        if (count < 0 || size == 0) h5::fail(errc::bad_input, fmt::format("cannot read attribute {} of {}", name, shown));
        // Variable-length values live in the file's global heap, which a
        // damaged file can make libhdf5 crash or hang on: read by a child
        // process first.
        if (io::has_variable_length(type.get())) {
            const io::Trial trial = io::trial_attribute_read(a.get(), type.get());
            if (trial.outcome != io::TrialOutcome::succeeded) {
                notes.push_back(fmt::format("attribute {} of {} is not copied: its variable-length values could not "
                                            "be read safely (a trial read {})",
                                            name, shown, trial.detail));
                continue;
            }
        }
        std::vector<unsigned char> buffer(std::max<std::size_t>(1, static_cast<std::size_t>(count) * size));
        if (H5Aread(a.get(), type.get(), buffer.data()) < 0)
            h5::fail(errc::bad_input, fmt::format("cannot read attribute {} of {}", name, shown));
        h5::Attribute b(H5Acreate2(to, name.c_str(), type.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT));
        const bool written = b && H5Awrite(b.get(), type.get(), buffer.data()) >= 0;
        if (H5Tdetect_class(type.get(), H5T_VLEN) > 0 || H5Tis_variable_str(type.get()) > 0)
            H5Dvlen_reclaim(type.get(), space.get(), H5P_DEFAULT, buffer.data());
        if (!written) h5::fail(errc::io, fmt::format("cannot copy attribute {} of {}", name, shown));
    }
}

bool is_decomposition_group(hid_t group)
{
    return H5Aexists(group, "signcut_format") > 0;
}

class Rewriter {
public:
    Rewriter(hid_t in, hid_t out, const std::string& input, const ObjectTransform& transform)
        : in_(in), out_(out), input_(input), transform_(transform)
    {
    }

    std::vector<std::string> notes;

    void group(const std::string& path)
    {
        std::vector<Link> links;
        hsize_t index = 0;
        if (H5Literate_by_name(in_, path.c_str(), H5_INDEX_NAME, H5_ITER_INC, &index, collect_link, &links,
                               H5P_DEFAULT) < 0)
            h5::fail(errc::bad_input, fmt::format("cannot list the members of {}:{}", input_, path));
        for (const Link& link : links) member(child_path(path, link.name), link.type);
    }

private:
    void member(const std::string& path, H5L_type_t type)
    {
        const std::string shown = fmt::format("{}:{}", input_, path);
        if (type == H5L_TYPE_SOFT || type == H5L_TYPE_EXTERNAL) {
            copy_link(path, shown);
            return;
        }
        if (type != H5L_TYPE_HARD) {
            notes.push_back(fmt::format("{} is a user-defined link; not copied", shown));
            return;
        }
        h5::Object o(H5Oopen(in_, path.c_str(), H5P_DEFAULT));
        if (!o) h5::fail(errc::bad_input, fmt::format("cannot open {}", shown));
        const H5I_type_t kind = H5Iget_type(o.get());
        if (kind == H5I_GROUP) {
            if (is_decomposition_group(o.get())) {
                if (std::optional<ObjectReplacement> r = transform_(path, true)) {
                    replace(path, *r);
                    return;
                }
                copy_object(path, shown);
                return;
            }
            h5::PropList gcpl = h5::untimed_creation_properties(H5P_GROUP_CREATE);
            h5::Group g(H5Gcreate2(out_, path.c_str(), H5P_DEFAULT, gcpl.get(), H5P_DEFAULT));
            if (!g) h5::fail(errc::io, fmt::format("cannot create group {}", path));
            copy_attributes(o.get(), g.get(), shown, notes);
            g.reset();
            o.reset();
            group(path);
            return;
        }
        if (kind == H5I_DATASET) {
            o.reset();
            if (std::optional<ObjectReplacement> r = transform_(path, false)) {
                replace(path, *r);
                return;
            }
        }
        copy_object(path, shown);
    }

    void replace(const std::string& path, const ObjectReplacement& r)
    {
        if (r.filtered) {
            copy_filtered(path, *r.filtered);
            return;
        }
        if (r.data) {
            const Shape shape(r.data->shape().begin(), r.data->shape().end());
            io::write_dataset_into(out_, path, path, r.data->data(), shape, r.dtype, r.attributes);
            return;
        }
        if (!r.decomposition) return;
        h5::PropList gcpl = h5::untimed_creation_properties(H5P_GROUP_CREATE);
        h5::Group g(H5Gcreate2(out_, path.c_str(), H5P_DEFAULT, gcpl.get(), H5P_DEFAULT));
        if (!g) h5::fail(errc::io, fmt::format("cannot create group {}", path));
        if (r.decomposition->sct() != nullptr)
            io::write_sct_into(g.get(), path, *r.decomposition->sct(), r.provenance);
        else
            io::write_lplr_into(g.get(), path, *r.decomposition->lplr(), r.provenance);
    }

    /// The dataset at `path` rewritten through the signcut filter: its type,
    /// shape, fill value and attributes, its values copied slab by slab of
    /// whole chunk rows.
    void copy_filtered(const std::string& path, const FilteredCopy& f)
    {
        const std::string shown = fmt::format("{}:{}", input_, path);
        h5::Dataset in(H5Dopen2(in_, path.c_str(), H5P_DEFAULT));
        if (!in) h5::fail(errc::bad_input, fmt::format("cannot open {}", shown));
        h5::Datatype type(H5Dget_type(in.get()));
        h5::Dataspace space(H5Dget_space(in.get()));
        h5::PropList in_dcpl(H5Dget_create_plist(in.get()));
        const int rank = space ? H5Sget_simple_extent_ndims(space.get()) : -1;
        if (!type || rank < 1 || static_cast<std::size_t>(rank) != f.chunk.size())
            h5::fail(errc::bad_input, fmt::format("cannot read {} as an array of rank {}", shown, f.chunk.size()));
        std::vector<hsize_t> dims(static_cast<std::size_t>(rank)), chunk(f.chunk.begin(), f.chunk.end());
        H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr);

        h5::PropList dcpl = h5::untimed_creation_properties(H5P_DATASET_CREATE);
        h5::check_status(H5Pset_chunk(dcpl.get(), rank, chunk.data()), errc::io,
                         fmt::format("cannot set the chunks of {}", path));
        // The fill value, if the original defines one, for unwritten regions.
        H5D_fill_value_t defined = H5D_FILL_VALUE_UNDEFINED;
        if (in_dcpl && H5Pfill_value_defined(in_dcpl.get(), &defined) >= 0 && defined == H5D_FILL_VALUE_USER_DEFINED) {
            std::vector<unsigned char> fill(H5Tget_size(type.get()));
            if (H5Pget_fill_value(in_dcpl.get(), type.get(), fill.data()) >= 0)
                H5Pset_fill_value(dcpl.get(), type.get(), fill.data());
        }
        h5::check_status(H5Pset_filter(dcpl.get(), static_cast<H5Z_filter_t>(hdf5_filter_id), H5Z_FLAG_MANDATORY,
                                       f.parameters.size(), f.parameters.data()),
                         errc::io, fmt::format("cannot set the signcut filter on {}", path));
        h5::Dataset out(H5Dcreate2(out_, path.c_str(), type.get(), space.get(), H5P_DEFAULT, dcpl.get(), H5P_DEFAULT));
        if (!out) h5::fail(errc::io, fmt::format("cannot create {} with the signcut filter", path));

        // Slabs of whole chunk rows along mode 0, about 64 MiB each.
        const std::size_t value_bytes = H5Tget_size(type.get());
        hsize_t row_values = 1;
        for (int a = 1; a < rank; ++a) row_values *= dims[static_cast<std::size_t>(a)];
        const hsize_t chunk_rows = chunk[0];
        const hsize_t rows_per_slab = std::max<hsize_t>(
            chunk_rows, ((std::uint64_t{64} << 20) / std::max<hsize_t>(1, row_values * value_bytes)) / chunk_rows *
                            chunk_rows);
        std::vector<unsigned char> buffer;
        for (hsize_t first = 0; first < dims[0]; first += rows_per_slab) {
            std::vector<hsize_t> start(dims.size(), 0), count = dims;
            start[0] = first;
            count[0] = std::min(rows_per_slab, dims[0] - first);
            buffer.resize(static_cast<std::size_t>(count[0] * row_values * value_bytes));
            h5::Dataspace file_space(H5Scopy(space.get()));
            h5::Dataspace memory(H5Screate_simple(rank, count.data(), nullptr));
            if (!file_space || !memory ||
                H5Sselect_hyperslab(file_space.get(), H5S_SELECT_SET, start.data(), nullptr, count.data(), nullptr) < 0)
                h5::fail(errc::io, fmt::format("cannot select rows of {}", shown));
            if (H5Dread(in.get(), type.get(), memory.get(), file_space.get(), H5P_DEFAULT, buffer.data()) < 0)
                h5::fail(errc::bad_input, fmt::format("cannot read {}", shown));
            if (H5Dwrite(out.get(), type.get(), memory.get(), file_space.get(), H5P_DEFAULT, buffer.data()) < 0)
                h5::fail(errc::io, fmt::format("cannot write {} through the signcut filter", path));
        }
        copy_attributes(in.get(), out.get(), shown, notes);
    }

    /// H5Ocopy without attributes, which are then copied by copy_attributes:
    /// H5Ocopy would keep reference attributes pointing nowhere.
    void copy_object(const std::string& path, const std::string& shown)
    {
        if (H5Oexists_by_name(in_, path.c_str(), H5P_DEFAULT) > 0) {
            h5::Object o(H5Oopen(in_, path.c_str(), H5P_DEFAULT));
            if (o && H5Iget_type(o.get()) == H5I_DATASET) {
                // H5Ocopy reads variable-length values through the global
                // heap: a child process reads them all first.
                h5::Datatype t(H5Dget_type(o.get()));
                if (t && io::has_variable_length(t.get())) {
                    const io::Trial trial = io::trial_dataset_read(o.get());
                    if (trial.outcome != io::TrialOutcome::succeeded) {
                        notes.push_back(fmt::format("{} is not copied: its variable-length values could not be read "
                                                    "safely (a trial read {})",
                                                    shown, trial.detail));
                        return;
                    }
                }
            }
        }
        h5::PropList ocpypl(H5Pcreate(H5P_OBJECT_COPY));
        H5Pset_copy_object(ocpypl.get(), H5O_COPY_WITHOUT_ATTR_FLAG);
        if (H5Ocopy(in_, path.c_str(), out_, path.c_str(), ocpypl.get(), H5P_DEFAULT) < 0)
            h5::fail(errc::io, fmt::format("cannot copy {}", shown));
        h5::Object from(H5Oopen(in_, path.c_str(), H5P_DEFAULT));
        h5::Object to(H5Oopen(out_, path.c_str(), H5P_DEFAULT));
        if (!from || !to) h5::fail(errc::io, fmt::format("cannot copy {}", shown));
        copy_attributes(from.get(), to.get(), shown, notes);
        if (H5Iget_type(from.get()) == H5I_DATASET) {
            h5::Dataset d(H5Dopen2(in_, path.c_str(), H5P_DEFAULT));
            h5::Datatype t(H5Dget_type(d.get()));
            if (t && H5Tdetect_class(t.get(), H5T_REFERENCE) > 0)
                notes.push_back(fmt::format("{} holds object references; in the new file they point nowhere", shown));
        }
    }

    void copy_link(const std::string& path, const std::string& shown)
    {
        H5L_info_t info{};
        if (H5Lget_info(in_, path.c_str(), &info, H5P_DEFAULT) < 0)
            h5::fail(errc::bad_input, fmt::format("cannot read the link {}", shown));
        std::vector<char> value(info.u.val_size + 1, '\0');
        if (H5Lget_val(in_, path.c_str(), value.data(), value.size(), H5P_DEFAULT) < 0)
            h5::fail(errc::bad_input, fmt::format("cannot read the link {}", shown));
        herr_t status = -1;
        if (info.type == H5L_TYPE_SOFT) {
            status = H5Lcreate_soft(value.data(), out_, path.c_str(), H5P_DEFAULT, H5P_DEFAULT);
        } else {
            const char* file = nullptr;
            const char* object = nullptr;
            unsigned flags = 0;
            if (H5Lunpack_elink_val(value.data(), value.size(), &flags, &file, &object) >= 0)
                status = H5Lcreate_external(file, object, out_, path.c_str(), H5P_DEFAULT, H5P_DEFAULT);
        }
        if (status < 0) h5::fail(errc::io, fmt::format("cannot copy the link {}", shown));
    }

    hid_t in_;
    hid_t out_;
    std::string input_;
    const ObjectTransform& transform_;
};

}  // namespace

std::vector<std::string> rewrite_file(const std::string& input, const std::string& output, bool force,
                                      const ObjectTransform& transform)
{
    h5::QuietErrors quiet;
    h5::File in = h5::open_read_only(input);
    io::Hdf5Output out(output, {}, force);
    Rewriter rewriter(in.get(), out.file(), input, transform);
    {
        h5::Group from(H5Gopen2(in.get(), "/", H5P_DEFAULT));
        h5::Group to(H5Gopen2(out.file(), "/", H5P_DEFAULT));
        if (!from || !to) h5::fail(errc::io, fmt::format("cannot open the root groups of {} and {}", input, output));
        copy_attributes(from.get(), to.get(), input + ":/", rewriter.notes);
    }
    rewriter.group("/");
    out.commit();
    return std::move(rewriter.notes);
}

}  // namespace signcut
