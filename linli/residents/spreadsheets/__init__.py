"""The residents register in Excel: template, import (all or nothing, or partial), export."""
