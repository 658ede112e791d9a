// Package mapping applies a contract action's mapping table to a source
// record. A table is compiled once per contract version into a Mapper
// (CEL programs built, types and value maps resolved) and then evaluated
// for every record without further parsing.
//
// Unknown source fields are counted and ignored, never a failure: partners
// add fields without notice. A value that cannot become the target type
// fails with an error naming the target field.
package mapping
