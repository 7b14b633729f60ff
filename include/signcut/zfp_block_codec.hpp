// signcut: zfp as a block codec, so that a block where zfp's transform
// coder beats signed cuts (rough or dense data, high budgets) can be stored
// with zfp instead. Lives in libsigncut, the one library that links libzfp;
// the core sees it only as a BlockCodec (block_codec.hpp).
//
// Each stream is one plane of the block, compressed by libzfp (float32,
// zfp's full header), so that `zfpy.decompress_numpy` decodes it alone.
#pragma once

#include "signcut/export.hpp"

#include <memory>

#include "signcut/block_codec.hpp"

namespace signcut {

/// The zfp codec (CodecId::zfp, "zfp"): stateless, shared by any number of
/// threads. Modes of a block shorter than 4 are its planes, one stream
/// each; the other modes, one to four of them, are zfp's field, the last
/// one zfp's x axis.
SIGNCUT_API std::shared_ptr<const BlockCodec> zfp_block_codec();

}  // namespace signcut
