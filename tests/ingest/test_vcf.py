"""The VCF reader on the real sample files: header, genotype calls, gzip, and refusal of broken lines."""

from __future__ import annotations

import gzip
import math
from pathlib import Path

import pandas as pd
import pytest

from provista.errors import ProvistaError
from provista.ingest.vcf import COLUMNS, read_vcf, read_vcf_header

VCF = Path(__file__).resolve().parents[3] / "shared" / "data" / "vcf"
SPEC_SAMPLES = ["NA00001", "NA00002", "NA00003"]
GATK_SAMPLES = ["BLANK", "NA12878", "NA12891", "NA12892", "NA19238", "NA19239", "NA19240"]


def call(frame: pd.DataFrame, ref: str) -> pd.Series:
    """The one row with this record_ref."""
    rows = frame[frame.record_ref == ref]
    assert len(rows) == 1
    return rows.iloc[0]


def broken_copy(tmp_path: Path, change: str, into: str) -> tuple[Path, int]:
    """example-4.0.vcf with one data line changed; the copy and the (1-based) number of the changed line."""
    lines = (VCF / "example-4.0.vcf").read_text(encoding="utf-8").splitlines(keepends=True)
    line_no = next(n for n, line in enumerate(lines, start=1) if change in line)
    lines[line_no - 1] = lines[line_no - 1].replace(change, into)
    path = tmp_path / "broken.vcf"
    path.write_text("".join(lines), encoding="utf-8")
    return path, line_no


@pytest.mark.parametrize(
    ("name", "fileformat", "reference", "contigs", "samples"),
    [
        ("example-4.0.vcf", "VCFv4.0", "1000GenomesPilot-NCBI36", [], SPEC_SAMPLES),
        (
            "example-4.1.vcf",
            "VCFv4.1",
            "file:///seq/references/1000GenomesPilot-NCBI36.fasta",
            ["20"],
            SPEC_SAMPLES,
        ),
    ],
)
def test_header_of_the_specification_examples(
    name: str, fileformat: str, reference: str, contigs: list[str], samples: list[str]
) -> None:
    assert read_vcf_header(VCF / name) == {
        "fileformat": fileformat,
        "reference": reference,
        "contigs": contigs,
        "samples": samples,
    }


def test_header_of_gatk_output() -> None:
    header = read_vcf_header(VCF / "gatk.vcf")
    assert header["fileformat"] == "VCFv4.1"
    assert header["reference"] == "file:///data/reference/ucsc/hg19/ucsc.hg19.fasta"
    assert len(header["contigs"]) == 93 and header["contigs"][0] == "chr1" and "chr22" in header["contigs"]
    assert header["samples"] == GATK_SAMPLES


@pytest.mark.parametrize(
    ("name", "records", "samples"),
    [("example-4.0.vcf", 6, 3), ("example-4.1.vcf", 5, 3), ("gatk.vcf", 37, 7)],
)
def test_one_row_per_record_and_sample(name: str, records: int, samples: int) -> None:
    frame = read_vcf(VCF / name)
    assert list(frame.columns) == COLUMNS
    assert len(frame) == records * samples
    assert frame.record_ref.is_unique
    assert frame.record_ref.str.split(":").str[0].astype(int).max() == records
    assert (frame.source_file == str(VCF / name)).all()
    assert frame.pos.dtype == "int64" and frame.qual.dtype == "float64" and frame.depth.dtype == "float64"
    assert frame.phased.dtype == "bool"


def test_calls_of_the_vcf_4_0_example() -> None:
    frame = read_vcf(VCF / "example-4.0.vcf")
    first = call(frame, "1:NA00002")  # 20 14370 rs6054257 G A 29 PASS ... 1|0:48:8:51,51
    assert (first.chrom, first.pos, first.variant_id, first.ref, first.alt) == (
        "20",
        14370,
        "rs6054257",
        "G",
        "A",
    )
    assert first.qual == 29.0 and first["filter"] is None
    assert (first.genotype, first.zygosity, first.phased, first.depth) == ("1|0", "het", True, 8.0)

    filtered = call(frame, "2:NA00003")  # 20 17330 . T A 3.0 q10 ... 0/0:41:3
    assert filtered.variant_id is None and filtered["filter"] == "q10"
    assert (filtered.genotype, filtered.zygosity, filtered.phased, filtered.depth) == (
        "0/0",
        "hom_ref",
        False,
        3.0,
    )

    multi = frame[frame.pos == 1110696].set_index("sample")  # A G,T 1e+03: 1|2, 2|1, 2/2
    assert (multi.alt == "G,T").all() and (multi.qual == 1000.0).all()
    assert list(multi.genotype) == ["1|2", "2|1", "2/2"]
    assert list(multi.zygosity) == ["het", "het", "hom_alt"]
    assert multi.loc["NA00002", "depth"] == 0.0

    no_alt = frame[frame.pos == 1230237]  # ALT '.': a reference-only site
    assert no_alt.alt.isna().all() and (no_alt.zygosity == "hom_ref").all()

    microsat = call(frame, "6:NA00001")  # GTCT G,GTACT . PASS ... ./.:35:4
    assert math.isnan(microsat.qual)
    assert (microsat.genotype, microsat.zygosity, microsat.phased, microsat.depth) == (
        "./.",
        "missing",
        False,
        4.0,
    )
    assert call(frame, "6:NA00002").genotype == "0/2"


def test_calls_of_the_vcf_4_1_example() -> None:
    frame = read_vcf(VCF / "example-4.1.vcf")
    assert call(frame, "3:NA00001").qual == 67.0
    microsat = frame[frame.variant_id == "microsat1"]  # GTC G,GTCT: 0/1, 0/2, 1/1
    assert list(microsat.genotype) == ["0/1", "0/2", "1/1"]
    assert list(microsat.zygosity) == ["het", "het", "hom_alt"]
    assert list(microsat.depth) == [4.0, 2.0, 3.0]


def test_calls_of_gatk_output() -> None:
    frame = read_vcf(VCF / "gatk.vcf")
    assert frame.zygosity.value_counts().to_dict() == {
        "het": 128,
        "hom_ref": 109,
        "hom_alt": 18,
        "missing": 4,
    }
    assert not frame.phased.any() and frame["filter"].isna().all()
    blank_missing = frame[frame.genotype == "./."]  # the BLANK sample has no call in the last 4 records
    assert list(blank_missing.record_ref) == ["34:BLANK", "35:BLANK", "36:BLANK", "37:BLANK"]
    assert blank_missing.depth.isna().all()
    hom_alt = call(frame, "4:NA12878")  # chr22 42523003 rs116917064 A G 7113.55 ... 1/1:9,173:183:99:...
    assert (hom_alt.chrom, hom_alt.pos, hom_alt.variant_id) == ("chr22", 42523003, "rs116917064")
    assert hom_alt.qual == pytest.approx(7113.55)
    assert (hom_alt.genotype, hom_alt.zygosity, hom_alt.depth) == ("1/1", "hom_alt", 183.0)


def test_gzip_compressed_vcf_reads_the_same(tmp_path: Path) -> None:
    path = tmp_path / "gatk.vcf.gz"
    path.write_bytes(gzip.compress((VCF / "gatk.vcf").read_bytes()))
    plain, packed = read_vcf(VCF / "gatk.vcf"), read_vcf(path)
    pd.testing.assert_frame_equal(plain.drop(columns="source_file"), packed.drop(columns="source_file"))
    assert read_vcf_header(path)["samples"] == GATK_SAMPLES


def test_line_with_a_missing_column_is_refused(tmp_path: Path) -> None:
    path, line_no = broken_copy(tmp_path, "\t0/0:61:2\n", "\n")
    with pytest.raises(ProvistaError) as caught:
        read_vcf(path)
    message = str(caught.value)
    assert (
        "broken.vcf" in message
        and f"line {line_no}" in message
        and "11 tab-separated fields, the header has 12" in message
    )
    assert line_no == 22


def test_line_with_a_non_integer_position_is_refused(tmp_path: Path) -> None:
    path, line_no = broken_copy(tmp_path, "20\t17330\t", "20\t17,330\t")
    with pytest.raises(ProvistaError, match=rf"broken\.vcf, line {line_no}, field POS"):
        read_vcf(path)


def test_genotype_naming_an_absent_allele_is_refused(tmp_path: Path) -> None:
    path, line_no = broken_copy(tmp_path, "1|1:23:7:26,30", "1|3:23:7:26,30")
    with pytest.raises(
        ProvistaError, match=rf"broken\.vcf, line {line_no}, field GT: '1\|3' \(sample NA00001\)"
    ):
        read_vcf(path)


def test_the_header_is_read_without_the_data_lines(tmp_path: Path) -> None:
    path, _ = broken_copy(tmp_path, "20\t17330\t", "20\tseventeen\t")
    assert read_vcf_header(path)["samples"] == SPEC_SAMPLES


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "no '#CHROM' header line"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe", "line 1, field text"),
        (b"patient_id,icd10\n1,J18.9\n", "line 1, field header"),
        (b"##fileformat=VCFv4.1\n#CHROM\tPOS\tID\n", "line 2, field #CHROM"),
    ],
)
def test_files_that_are_not_vcf_are_refused(tmp_path: Path, content: bytes, expected: str) -> None:
    path = tmp_path / "upload.vcf"
    path.write_bytes(content)
    with pytest.raises(ProvistaError, match=r"upload\.vcf") as caught:
        read_vcf(path)
    assert expected in str(caught.value)


def test_damaged_gzip_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "cut.vcf.gz"
    path.write_bytes(gzip.compress((VCF / "gatk.vcf").read_bytes())[:3000])
    with pytest.raises(ProvistaError, match=r"cut\.vcf\.gz"):
        read_vcf(path)
