"""numpy index expressions as the library's regions.

``d.reconstruct(region=(slice(0, 10), 5))`` selects what ``x[0:10, 5]`` would
select from the full reconstruction. The library rebuilds only the blocks a
region touches, and its regions are contiguous boxes: one range per mode,
and an integer drops its mode. So the index is resolved here into one
(start, stop, keep) triple per mode, with numpy's rules for negative
numbers, omitted bounds, missing trailing modes and one Ellipsis.
"""

import operator

__all__ = ["resolve_region"]


def _entry(item, extent, mode):
    if isinstance(item, slice):
        if item.step not in (None, 1):
            raise ValueError(f"region: mode {mode} has step {item.step}; only contiguous slices (step 1) are supported")
        start, stop, _ = item.indices(extent)
        if stop <= start:
            raise ValueError(f"region: mode {mode} selects nothing ({start}:{stop} of {extent})")
        return (start, stop, True)
    try:
        index = operator.index(item)
    except TypeError:
        raise TypeError(f"region: mode {mode}: expected an integer or a slice, got {type(item).__name__}") from None
    if not -extent <= index < extent:
        raise IndexError(f"region: index {index} is out of bounds for mode {mode} with size {extent}")
    if index < 0:
        index += extent
    return (index, index + 1, False)


def resolve_region(region, shape):
    """One (start, stop, keep) triple per mode of ``shape`` for the numpy
    index ``region`` (an integer, a slice, Ellipsis, or a tuple of them);
    None for the whole tensor."""
    if region is None:
        return None
    if not isinstance(region, tuple):
        region = (region,)
    ellipses = sum(1 for item in region if item is Ellipsis)
    if ellipses > 1:
        raise IndexError("region: an index can only have a single ellipsis ('...')")
    if len(region) - ellipses > len(shape):
        raise IndexError(f"region: too many indices for a tensor of order {len(shape)}: {len(region) - ellipses} given")
    if ellipses:
        at = next(i for i, item in enumerate(region) if item is Ellipsis)
        fill = (slice(None),) * (len(shape) - len(region) + 1)
        region = region[:at] + fill + region[at + 1:]
    else:
        region = region + (slice(None),) * (len(shape) - len(region))
    return [_entry(item, extent, mode) for mode, (item, extent) in enumerate(zip(region, shape))]
