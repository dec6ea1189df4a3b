package signalwire

// Parsers of outside input, exported to the external tests and fuzz targets.
var (
	ParseRetryAfter = parseRetryAfter
	ParseAPIError   = parseAPIError
)
