import CHDF5

/// Element types stored in datasets and attributes; each names its native HDF5 type.
public protocol HDF5Scalar {
    static var hdf5Type: hid_t { get }
}
extension Float: HDF5Scalar { public static var hdf5Type: hid_t { chdf5_native_float() } }
extension Double: HDF5Scalar { public static var hdf5Type: hid_t { chdf5_native_double() } }
extension Int8: HDF5Scalar { public static var hdf5Type: hid_t { chdf5_native_int8() } }
extension UInt8: HDF5Scalar { public static var hdf5Type: hid_t { chdf5_native_uint8() } }
extension Int16: HDF5Scalar { public static var hdf5Type: hid_t { chdf5_native_int16() } }
extension UInt16: HDF5Scalar { public static var hdf5Type: hid_t { chdf5_native_uint16() } }
extension Int32: HDF5Scalar { public static var hdf5Type: hid_t { chdf5_native_int32() } }
extension UInt32: HDF5Scalar { public static var hdf5Type: hid_t { chdf5_native_uint32() } }
extension Int64: HDF5Scalar { public static var hdf5Type: hid_t { chdf5_native_int64() } }
