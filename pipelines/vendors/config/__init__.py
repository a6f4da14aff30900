"""The vendor file format, one module per section; ``vendor.VendorConfig`` is the whole file."""
